"""The session report: opportunities seen, executed and missed (and why), per pair, from
the scan journal; as figures for a table or JSON, and as a PNG chart (edge over time per
pair, executed vs missed) for people who would rather look than read.

The chart needs matplotlib (``pip install 'arbexec[report]'``), imported only here and only
when a PNG is asked for, with the Agg backend (no display needed).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.errors import UserError
from arbexec.scanner.store import Observation

#: statuses of an observation that was an opportunity (above the minimum spread)
OPPORTUNITY = ("seen", "executed", "missed")


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def summarise(observations: Sequence[Observation]) -> dict[str, Any]:
    """Per pair: scans, opportunities, executed, missed, best edge, predicted and realised
    edge of what was executed; and the missed opportunities counted by reason."""
    pairs: dict[str, dict[str, Any]] = {}
    missed: Counter[str] = Counter()
    unavailable: Counter[str] = Counter()  # pair directions not priced: stale book, ...
    examples: dict[str, str] = {}
    scans: defaultdict[str, set[str]] = defaultdict(set)
    for o in observations:
        entry = pairs.setdefault(o.pair_id, {
            "pair_id": o.pair_id, "title": o.title, "scans": 0, "opportunities": 0,
            "executed": 0, "missed": 0, "seen_only": 0, "best_edge_per_contract": None,
            "predicted_edge": Decimal(0), "realised_edge": Decimal(0)})
        scans[o.pair_id].add(o.scan_id)
        each = o.executable_edge_per_contract
        best = entry["best_edge_per_contract"]
        if each is not None and (best is None or each > best):
            entry["best_edge_per_contract"] = each
        if o.status == "unavailable":
            unavailable[o.reason_code or "unknown"] += 1
        if o.status not in OPPORTUNITY:
            continue
        entry["opportunities"] += 1
        if o.status == "executed":
            entry["executed"] += 1
            entry["predicted_edge"] += _dec(o.edge) or 0
            entry["realised_edge"] += _dec(o.realised_edge) or 0
        elif o.status == "missed":
            entry["missed"] += 1
            code = o.reason_code or "unknown"
            missed[code] += 1
            examples.setdefault(code, o.reason or "")
        else:
            entry["seen_only"] += 1
            code = o.reason_code or "not_executing"
            missed[code] += 1
            examples.setdefault(code, o.reason or "")
    rows = []
    for pair_id, entry in pairs.items():
        best = entry["best_edge_per_contract"]
        rows.append({**entry, "scans": len(scans[pair_id]),
                     "best_edge_per_contract": None if best is None else _plain(best),
                     "predicted_edge": _plain(entry["predicted_edge"]),
                     "realised_edge": _plain(entry["realised_edge"])})
    totals = {name: sum(r[name] for r in rows)
              for name in ("opportunities", "executed", "missed", "seen_only")}
    totals["scans"] = len({o.scan_id for o in observations})
    return {"pairs": rows, "totals": totals,
            "not_executed": [{"reason_code": code, "count": count,
                              "example": examples.get(code, "")}
                             for code, count in missed.most_common()],
            "unavailable": [{"reason_code": code, "count": count}
                            for code, count in unavailable.most_common()]}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UserError("the PNG report needs matplotlib, which is not installed; install it "
                        "with: pip install 'arbexec[report]' (the table works without it)"
                        ) from None
    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


def _per_pair(observations: Sequence[Observation]) -> dict[str, list[Observation]]:
    """Per pair, one point per scan: the direction with the better executable edge (an
    executed or missed one wins, so its marker sits on the line)."""
    chosen: dict[tuple[str, str], Observation] = {}
    for o in observations:
        each = o.executable_edge_per_contract
        if each is None:
            continue
        key = (o.title or o.pair_id, o.scan_id)
        held = chosen.get(key)
        rank = (o.status in ("executed", "missed"), each)
        if held is None or rank > (held.status in ("executed", "missed"),
                                   held.executable_edge_per_contract or each):
            chosen[key] = o
    series: defaultdict[str, list[Observation]] = defaultdict(list)
    for (title, _scan), o in chosen.items():
        series[title].append(o)
    return {title: sorted(points, key=lambda p: p.at) for title, points in series.items()}


def render_png(observations: Sequence[Observation], path: Path) -> Path:
    """Above: the executable edge per contract over time, one line per pair, executed
    opportunities as green circles, missed ones as red crosses, the minimum spread dashed.
    Below: each pair's executed, missed and seen-only opportunities."""
    from datetime import datetime

    plt = _pyplot()
    from matplotlib import dates, ticker

    figure, (edges, counts) = plt.subplots(
        2, 1, figsize=(10, 7), dpi=100, gridspec_kw={"height_ratios": [3, 2]})
    series = _per_pair(observations)
    for title, points in sorted(series.items()):
        times = [datetime.fromisoformat(p.at) for p in points]
        values = [float(p.executable_edge_per_contract or 0) for p in points]
        edges.plot(times, values, linewidth=1.2, label=title[:48])
        for status, marker, colour in (("executed", "o", "tab:green"),
                                       ("missed", "x", "tab:red")):
            chosen = [(t, v) for t, v, p in zip(times, values, points, strict=True)
                      if p.status == status]
            if chosen:
                edges.scatter(*zip(*chosen, strict=True), marker=marker, s=60, color=colour,
                              zorder=3, label=f"{status} ({len(chosen)})")
    for spread in sorted({o.min_spread for o in observations if o.min_spread}):
        edges.axhline(float(spread), linestyle="--", color="grey", linewidth=1,
                      label=f"minimum spread {spread}")
    edges.axhline(0, color="black", linewidth=0.5)
    edges.set_title("Executable edge per contract after both venues' fees")
    edges.set_ylabel("$ per contract")
    edges.xaxis.set_major_formatter(dates.DateFormatter("%m-%d %H:%M:%S"))
    edges.tick_params(axis="x", labelrotation=20, labelsize=8)
    if series:
        edges.legend(fontsize=7, loc="best")
    else:
        edges.text(0.5, 0.5, "no observations in this period", ha="center",
                   transform=edges.transAxes)
    summary = summarise(observations)["pairs"]
    names = [(r["title"] or r["pair_id"])[:28] for r in summary]
    positions = list(range(len(names)))
    width = 0.25
    for offset, key, colour in ((-width, "executed", "tab:green"), (0, "missed", "tab:red"),
                                (width, "seen_only", "tab:orange")):
        counts.bar([p + offset for p in positions], [r[key] for r in summary], width,
                   label=key.replace("_", " "), color=colour)
    counts.set_xticks(positions, names, fontsize=8)
    if names:
        counts.set_xlim(-0.75, len(names) - 0.25)
    counts.set_ylabel("opportunities")
    counts.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    counts.set_title("Opportunities per pair: executed, missed, seen without executing")
    counts.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


__all__ = ["render_png", "summarise"]
