"""Implements a misspelled hook."""

from arbexec.api import hookimpl


@hookimpl
def arbexec_exchange():
    return []
