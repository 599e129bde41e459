"""Exact, bounded JSON for untrusted lines (requests, pairs).

The standard ``json.loads`` reads numbers as binary floats (a 40-decimal price is silently
rounded), lets a repeated key overwrite the first (a price of 0.01 becomes 0.99), accepts
``NaN`` and ``Infinity``, recurses as deep as the line nests, and returns lone surrogates
(``"\\ud800"``) that no UTF-8 journal can store. Here every one of those is a
``RequestError`` naming where it is, so the line is refused alone and the run goes on:

* numbers become ``Decimal`` straight from their literal (whole numbers ``int``);
* a key repeated in one object, ``NaN`` / ``Infinity``, nesting deeper than ``MAX_DEPTH``
  and lines longer than ``MAX_LINE_CHARS`` are refused;
* every string (keys too) must be valid Unicode without control characters, and at most
  ``MAX_STRING_CHARS`` long.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from arbexec.model import RequestError, text_problem

#: Longest line read as one request: far above any real request (a few hundred characters).
MAX_LINE_CHARS = 65_536
#: Deepest nesting of objects and arrays in one line (a pair with tags needs four).
MAX_DEPTH = 16
#: Longest string value (identifiers have their own, tighter limit in the model).
MAX_STRING_CHARS = 4096

_OPENERS = re.compile(r'[\[{"]')


def loads(text: str) -> Any:
    """Parse one untrusted JSON text; raise ``RequestError`` (field and reason) when refused."""
    if len(text) > MAX_LINE_CHARS:
        raise RequestError("request", f"the line is {len(text)} characters long; the limit "
                           f"is {MAX_LINE_CHARS}")
    _check_depth(text)
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise RequestError("request", f"not valid JSON ({exc.msg} at column {exc.colno})"
                           ) from None
    except RecursionError:  # unreachable past _check_depth; kept so no line can crash a run
        raise RequestError("request", f"nested deeper than {MAX_DEPTH} levels") from None
    if not (text.isascii() and "\\" not in text and len(text) <= MAX_STRING_CHARS):
        # Only an escape or a non-ASCII character can put a surrogate or a control
        # character into a string (the parser refuses raw controls), and no string is
        # longer than its line: most lines need no walk.
        check_strings(data, "")
    return data


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RequestError(_printable(key), "appears more than once in one object; "
                                   "which value is meant is unclear, so the line is refused")
            seen.add(key)
    return result


def _number(literal: str) -> Decimal:
    return Decimal(literal)


def _integer(literal: str) -> int | Decimal:
    """Whole numbers stay ``int`` (a tag ``3`` is journaled as 3); one too long for a
    plausible int is a Decimal, which every field's bound then refuses."""
    return int(literal) if len(literal) <= 30 else Decimal(literal)


def _constant(name: str) -> Any:
    raise RequestError("request", f"{name} is not a number JSON allows; write a finite number")


_DECODER = json.JSONDecoder(parse_float=_number, parse_int=_integer, parse_constant=_constant,
                            object_pairs_hook=_object)


def check_strings(value: Any, where: str) -> None:
    """Refuse any string (key or value) that cannot be journaled or shown safely."""
    if isinstance(value, str):
        _check_text(value, where or "request")
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            _check_text(key, f"{where}.<key>" if where else "<key>")
            check_strings(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_strings(item, f"{where}[{index}]" if where else f"[{index}]")


def _check_text(text: str, where: str) -> None:
    if len(text) > MAX_STRING_CHARS:
        raise RequestError(where, f"is {len(text)} characters long; the limit is "
                           f"{MAX_STRING_CHARS}")
    problem = text_problem(text)
    if problem is not None:
        raise RequestError(_printable(where), problem)


def _printable(where: str) -> str:
    """A field path fit for a one-line message (a hostile key may hold anything)."""
    if text_problem(where) is None and where.isprintable():
        return where
    return where.encode("ascii", "backslashreplace").decode("ascii")


def _check_depth(text: str) -> None:
    """Refuse nesting past ``MAX_DEPTH`` before the parser recurses into it."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    position = 0
    length = len(text)
    while True:
        found = _OPENERS.search(text, position)
        closers_before = found.start() if found else length
        depth -= text.count("]", position, closers_before) + text.count("}", position,
                                                                         closers_before)
        if found is None:
            return
        if found.group() == '"':
            position = _string_end(text, found.end())
            if position < 0:
                return  # unterminated string: the parser reports it
            continue
        depth += 1
        if depth > MAX_DEPTH:
            raise RequestError("request", f"nested deeper than {MAX_DEPTH} levels (at column "
                               f"{found.start() + 1})")
        position = found.end()


def _string_end(text: str, start: int) -> int:
    """Index just past the closing quote of the string starting at ``start``, or -1."""
    position = start
    while True:
        quote = text.find('"', position)
        if quote < 0:
            return -1
        backslashes = 0
        back = quote - 1
        while back >= start and text[back] == "\\":
            backslashes += 1
            back -= 1
        if backslashes % 2 == 0:
            return quote + 1
        position = quote + 1
