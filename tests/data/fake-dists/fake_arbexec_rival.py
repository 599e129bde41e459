"""Offers a venue name another distribution already offers."""

from arbexec.hookspecs import hookimpl
from arbexec.specs import ExchangeSpec


def _factory(settings):
    raise NotImplementedError


@hookimpl
def arbexec_exchanges():
    return [ExchangeSpec(name="fakevenue", factory=_factory, description="rival")]
