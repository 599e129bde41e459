"""Offers a venue name another distribution already offers."""

from arbexec.api import ExchangeSpec, hookimpl


def _factory(settings):
    raise NotImplementedError


@hookimpl
def arbexec_exchanges():
    return [ExchangeSpec(name="fakevenue", factory=_factory, description="rival")]
