"""Results handed to Redis, so the source acknowledges a message only after its result is
out: a crash between the two then redelivers the message (answered from the journal)
instead of losing the result. One registry per process; used only while a Redis sink runs.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from attrs import define, field

#: Results remembered as delivered before anyone waited for them (a bounded memory).
_REMEMBERED = 100_000


@define
class Deliveries:
    sinks: int = 0  # Redis sinks running in this process
    _futures: OrderedDict[str, asyncio.Future[None]] = field(factory=OrderedDict)

    def _future(self, request_id: str) -> asyncio.Future[None]:
        future = self._futures.get(request_id)
        if future is None:
            future = self._futures[request_id] = asyncio.get_running_loop().create_future()
            while len(self._futures) > _REMEMBERED:
                self._futures.popitem(last=False)
        return future

    def delivered(self, request_id: str) -> None:
        future = self._future(request_id)
        if not future.done():
            future.set_result(None)

    async def wait(self, request_id: str) -> None:
        if not self.sinks or not request_id:
            return
        await self._future(request_id)
        self._futures.pop(request_id, None)


DELIVERIES = Deliveries()
