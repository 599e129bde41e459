"""``arbexec orders --watch``: a live table on a terminal, plain lines in a pipe.

On a terminal the table is redrawn in place (rich's live display) every interval, so a
person sees orders change state where they stand. Written to a pipe or a file, each order
is printed once as it first appears and again whenever its state or fills change: a log a
program (or ``grep``) can follow, with no screen control codes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from arbexec.journal import JournalRow


def orders_table(rows: list[JournalRow]) -> Table:
    from rich import box
    from rich.table import Table

    from arbexec.tables import money, price_limit, short_id

    table = Table(title=f"orders ({len(rows)}) at {time.strftime('%H:%M:%S')}",
                  title_justify="left", header_style="bold", show_edge=False,
                  pad_edge=False, box=box.SIMPLE_HEAD)
    for name, right in (("status", False), ("request", False), ("venue", False),
                        ("market", False), ("side", False), ("quantity", True),
                        ("limit", False), ("filled", True), ("avg", True), ("fees", True)):
        table.add_column(name, justify="right" if right else "left", no_wrap=True)
    for row in rows:
        r = row.to_result()
        side = r.side.value if r.side else ""
        style = {"UNKNOWN": "red", "REJECTED": "yellow", "DENIED": "yellow",
                 "FILLED": "green"}.get(r.status.value)
        table.add_row(r.status.value, short_id(r.request_id), r.venue, r.market,
                      f"{side} {r.outcome.value if r.outcome else ''}".strip(),
                      str(r.quantity or ""), price_limit(side, r.limit_price),
                      str(r.filled_quantity),
                      "" if r.average_price is None else f"{round(r.average_price, 4)}",
                      money(r.fees) if r.fees else "", style=style)
    if not rows:
        table.caption = "no orders"
    return table


def _fingerprint(row: JournalRow) -> tuple[Any, ...]:
    r = row.to_result()
    return (r.status.value, r.filled_quantity, r.fees, r.reason_code)


def watch(read: Callable[[], list[JournalRow]], *, interval: float, as_json: bool,
          terminal: bool | None = None, rounds: int | None = None) -> None:
    """Follow ``read()`` until Ctrl-C (or ``rounds`` refreshes, for tests)."""
    terminal = sys.stdout.isatty() if terminal is None else terminal
    try:
        if terminal and not as_json:
            _live(read, interval, rounds)
        else:
            _lines(read, interval, as_json, rounds)
    except KeyboardInterrupt:
        return


def _live(read: Callable[[], list[JournalRow]], interval: float, rounds: int | None) -> None:
    from rich.live import Live

    from arbexec.tables import console

    with Live(orders_table(read()), console=console(), auto_refresh=False,
              transient=False) as live:
        done = 1
        while rounds is None or done < rounds:
            time.sleep(interval)
            live.update(orders_table(read()), refresh=True)
            done += 1


def _lines(read: Callable[[], list[JournalRow]], interval: float, as_json: bool,
           rounds: int | None) -> None:
    from arbexec.journal import dumps
    from arbexec.sinks.render import result_row, result_to_dict

    seen: dict[str, tuple[Any, ...]] = {}
    done = 0
    while rounds is None or done < rounds:
        rows = read()
        if done == 0 and not rows and not as_json:
            sys.stdout.write("no orders yet; watching (Ctrl-C stops)\n")
        for row in rows:
            mark = _fingerprint(row)
            if seen.get(row.idempotency_key) == mark:
                continue
            seen[row.idempotency_key] = mark
            result = row.to_result()
            sys.stdout.write((dumps(result_to_dict(result)) if as_json
                              else result_row(result)) + "\n")
        sys.stdout.flush()
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
