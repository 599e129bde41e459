"""One report format for every benchmark: a table of median, p99 and ratio, and JSON.

A benchmark collects samples per figure, names the figure it is compared with (a competitor
or the previous implementation measured in the same run), and calls ``Report.finish()``.
The table goes to stdout; the JSON goes to ``bench/results/<bench>.json`` (or the folder in
``ARBEXEC_BENCH_OUT``) so figures can be compared across machines and commits.

Quick mode (``./dev bench --quick``, ``ARBEXEC_BENCH_QUICK=1``) is a smoke test: each
benchmark runs a small workload, still checks its correctness conditions, and reports
figures that are not to be quoted. Nothing here ever fails on timing.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent


def quick() -> bool:
    """True when the benchmark should run its smoke-test size."""
    return os.environ.get("ARBEXEC_BENCH_QUICK", "") not in ("", "0")


def sized(full: int, small: int) -> int:
    """The workload size for this mode: ``full`` normally, ``small`` in quick mode."""
    return small if quick() else full


@attrs.frozen
class Figure:
    """One measured quantity: its samples, unit and what it is compared with."""

    name: str
    unit: str
    samples: tuple[float, ...]
    against: str | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@attrs.define
class Report:
    """Figures of one benchmark script, printed as a table and written as JSON."""

    bench: str
    figures: list[Figure] = attrs.field(factory=list)
    facts: dict[str, object] = attrs.field(factory=dict)

    def add(self, name: str, unit: str, samples: Iterable[float], *, against: str | None = None,
            higher_is_better: bool = False, note: str = "") -> Figure:
        values = tuple(float(s) for s in samples)
        if not values:
            raise ValueError(f"figure {name!r} has no samples")
        figure = Figure(name, unit, values, against, higher_is_better, note)
        self.figures.append(figure)
        return figure

    def fact(self, key: str, value: object) -> None:
        """A non-timing result worth keeping beside the figures (counts, checks passed)."""
        self.facts[key] = value

    def ratio(self, figure: Figure) -> float | None:
        """How many times better than the figure it is compared with (> 1 is better)."""
        if figure.against is None:
            return None
        base = next((f for f in self.figures if f.name == figure.against), None)
        if base is None or base.median == 0 or figure.median == 0:
            return None
        if figure.higher_is_better:
            return figure.median / base.median
        return base.median / figure.median

    def table(self) -> str:
        rows = [("figure", "median", "p99", "unit", "n", "vs", "ratio")]
        for f in self.figures:
            r = self.ratio(f)
            rows.append((f.name, f"{f.median:.4g}", f"{f.p99:.4g}", f.unit, str(len(f.samples)),
                         f.against or "", "" if r is None else f"{r:.2f}x"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "bench": self.bench, "quick": quick(),
            "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                        "platform": platform.platform()},
            "figures": [{"name": f.name, "unit": f.unit, "median": f.median, "p99": f.p99,
                         "n": len(f.samples), "against": f.against, "ratio": self.ratio(f),
                         "higher_is_better": f.higher_is_better, "note": f.note}
                        for f in self.figures],
            "facts": self.facts,
        }

    def finish(self) -> Path:
        """Print the table (and quick-mode warning) and write the JSON; returns its path."""
        if quick():
            print("(quick mode: a smoke test; these figures are not to be quoted)")
        print(self.table())
        for key, value in self.facts.items():
            print(f"{key}: {value}")
        out = Path(os.environ.get("ARBEXEC_BENCH_OUT", ROOT / "bench" / "results"))
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.bench}.json"
        path.write_text(json.dumps(self.as_json(), indent=2, default=str) + "\n")
        return path
