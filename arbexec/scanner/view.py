"""How a scan is shown: a table for a terminal (rich, refreshed live), one plain line per
pair direction when piped, JSON for programs."""

from __future__ import annotations

from typing import Any

from arbexec.scanner.scan import Row, ScanReport

COLUMNS = ["pair", "buy a", "buy b", "size", "edge/contract", "at limits", "edge", "fees",
           "status", "why"]
RIGHT = {"size", "edge/contract", "at limits", "edge", "fees"}
_STYLES = {"executed": "green", "seen": "bold yellow", "missed": "red",
           "unavailable": "dim red"}


def _pair_name(row: Row, width: int = 36) -> str:
    title = row.observation.title or row.pair.id
    return title if len(title) <= width else title[: width - 1] + "…"


def _leg(venue: str, outcome: str, limit: str | None) -> str:
    return f"{venue} {outcome}" + (f" @{limit}" if limit else "")


def cells(row: Row) -> list[str]:
    o = row.observation
    why = o.reason_code or ""
    if o.status == "executed" and o.realised_edge is not None:
        why = f"{o.state} realised {o.realised_edge}"
    elif o.status in ("missed", "unavailable", "seen") and o.reason and o.reason_code not in (
            "not_executing",):
        why = f"{o.reason_code}: {o.reason}"
    return [_pair_name(row), _leg(row.pair.a.venue, row.outcome_a.value, o.limit_a),
            _leg(row.pair.b.venue, row.outcome_b.value, o.limit_b), o.quantity or "",
            o.edge_per_contract or "", o.limit_edge_per_contract or "", o.edge or "",
            o.fees or "", o.status, why]


def table(report: ScanReport) -> Any:
    """The scan as a rich table (a renderable for ``Live``)."""
    from rich import box
    from rich.table import Table

    executed = sum(1 for r in report.rows if r.observation.status == "executed")
    title = (f"scan {report.at[:19]}Z  min spread {report.min_spread}  "
             f"{len(report.opportunities)} opportunities, {executed} executed")
    out = Table(title=title, title_justify="left", header_style="bold", show_edge=False,
                pad_edge=False, box=box.SIMPLE_HEAD)
    for name in COLUMNS:
        out.add_column(name, justify="right" if name in RIGHT else "left", no_wrap=True,
                       overflow="ellipsis", max_width=60 if name == "why" else None)
    for row in report.rows:
        out.add_row(*cells(row), style=_STYLES.get(row.observation.status))
    return out


def plain_lines(report: ScanReport) -> list[str]:
    """One line per pair direction, for a pipe or a log file."""
    lines = []
    for row in report.rows:
        c = cells(row)
        figures = (f"size {c[3]} edge/contract {c[4]} at limits {c[5]} edge {c[6]} "
                   f"fees {c[7]}" if c[3] else "no level")
        lines.append(f"{report.at} {row.observation.status:<11} {row.pair.id} "
                     f"{row.direction}: {c[1]} + {c[2]} {figures}" + (f"  [{c[9]}]"
                                                                       if c[9] else ""))
    return lines


def report_to_dict(report: ScanReport) -> dict[str, Any]:
    return {"session_id": report.session_id, "scan_id": report.scan_id, "at": report.at,
            "min_spread": str(report.min_spread),
            "opportunities": len(report.opportunities),
            "rows": [{**row.observation.as_dict(),
                      "buy_a": {"venue": row.pair.a.venue, "market": row.pair.a.market,
                                "outcome": row.outcome_a.value},
                      "buy_b": {"venue": row.pair.b.venue, "market": row.pair.b.market,
                                "outcome": row.outcome_b.value},
                      "book_age_s": None if row.book_age is None else round(row.book_age, 3)}
                     for row in report.rows]}


__all__ = ["cells", "plain_lines", "report_to_dict", "table"]
