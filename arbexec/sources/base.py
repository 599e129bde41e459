"""The source contract: where requests come from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from attrs import field, frozen

if TYPE_CHECKING:
    from arbexec.model import OrderRequest


@frozen(kw_only=True)
class SourceSettings:
    name: str
    options: Mapping[str, Any] = field(factory=dict, hash=False)
    source: str | None = None


@frozen(kw_only=True)
class SourceItem:
    """One item from a source: a parsed request, or the reason it could not be parsed.

    ``position`` says where it came from (``requests.jsonl:12``) so a bad line is reported
    with its place. ``token`` is the source's own handle for ``ack``.
    """

    position: str
    request: OrderRequest | Any | None = None  # OrderRequest or PairRequest
    error: str | None = None
    error_field: str | None = None
    raw: str | None = field(default=None, repr=False)
    token: Any = field(default=None, eq=False, repr=False)


@runtime_checkable
class Source(Protocol):
    name: str

    def items(self) -> AsyncIterator[SourceItem]: ...

    async def ack(self, item: SourceItem) -> None:
        """Called once the item is journaled (a stream source acknowledges it then)."""
        ...

    async def aclose(self) -> None: ...
