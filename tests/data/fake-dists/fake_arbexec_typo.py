"""Implements a misspelled hook."""

from arbexec.hookspecs import hookimpl


@hookimpl
def arbexec_exchange():
    return []
