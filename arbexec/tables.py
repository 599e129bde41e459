"""Tables for people: headers, aligned columns, colour only on a terminal.

Built on rich, imported only here and only by commands that print a table, so
``arbexec --help`` does not pay for it. rich honours ``NO_COLOR`` and colours nothing when
the output is not a terminal; piped output is also never cut to a terminal's width.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

#: Width of a table written to a file or a pipe (no terminal to fit).
PIPE_WIDTH = 200
#: Characters of an id kept in a table (``--json`` always gives the full id).
ID_WIDTH = 12


def console(*, err: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    terminal = stream.isatty()
    return Console(file=stream, width=None if terminal else PIPE_WIDTH,
                   highlight=False, soft_wrap=False)


def short_id(value: str | None, width: int = ID_WIDTH) -> str:
    """An id cut for a table: ``cli-3f9c2a…`` (the table's reader can still tell rows apart;
    ``--json`` gives the full id)."""
    if value is None:
        return ""
    return value if len(value) <= width else value[: width - 1] + "…"


def money(value: Decimal | str | None) -> str:
    """One money format: dollars with at least cents, exact beyond (a fee of $0.0035 stays
    $0.0035); negative amounts as -$1.20."""
    if value is None:
        return ""
    amount = Decimal(value)
    normal = amount.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    text = f"{abs(normal):f}"
    return f"-${text}" if amount < 0 else f"${text}"


def price_limit(side: str | None, price: Decimal | str | None) -> str:
    """A limit as a person reads it: a BUY pays at most (``@<=0.55``), a SELL takes at
    least (``@>=0.55``)."""
    from arbexec.sinks.render import limit_text

    return "" if price is None else limit_text(side, price)


def average(price: Decimal | str | None) -> str:
    """An average fill price rounded for display (the journal keeps it exact)."""
    if price is None:
        return ""
    value = Decimal(price)
    return f"{round(value, 4).normalize():f}"


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                title: str | None = None, right: Iterable[str] = (),
                empty: str = "nothing to show", styles: dict[int, str] | None = None) -> None:
    """Print a table; ``right`` names the columns of figures (right-aligned)."""
    from rich.table import Table

    aligned = set(right)
    out = console()
    rows = [list(r) for r in rows]
    if not rows:
        if title:
            out.print(f"{title}: {empty}", markup=False)
        else:
            out.print(empty, markup=False)
        return
    table = Table(title=title, title_justify="left", header_style="bold",
                  show_edge=False, pad_edge=False, box=_box())
    for name in columns:
        table.add_column(name, justify="right" if name in aligned else "left",
                         no_wrap=True, overflow="fold")
    for n, row in enumerate(rows):
        table.add_row(*("" if c is None else str(c) for c in row),
                      style=(styles or {}).get(n))
    out.print(table)


def _box() -> Any:
    from rich import box

    return box.SIMPLE_HEAD


def plain_line(text: str, *, style: str | None = None) -> None:
    """One line of text, coloured on a terminal only."""
    console().print(text, style=style, markup=False, highlight=False)
