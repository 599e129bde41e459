"""The write-ahead journal: SQLite in WAL mode, the single source of truth.

It holds every request and its order (keyed by the idempotency key, UNIQUE), every fill
(unique per order and trade id), an append-only event history, arbitrage pairs, and the halt
flag. The intent and its venue-side identity are committed *before* anything is sent, so a
crash can never forget an order that may have reached a venue.

One module per job: ``schema`` (tables, version, migrations), ``codec`` (JSON and request
(de)serialisation), ``unit_of_work`` (transactions, group commit, deferral), the stores
(``orders``, ``fills``, ``event_log``, ``pairs``, ``halt_store``), ``lock`` (one engine
per journal), ``reads`` (the listings ``orders`` and ``audit`` show) and ``facade``
(``Journal``, the object everyone holds). Import from ``arbexec.journal``.
"""

from arbexec.errors import JournalError, JournalLockedError, JournalUnusable
from arbexec.journal.codec import dumps, order_state_summary, request_from_dict, request_to_dict
from arbexec.journal.facade import Journal
from arbexec.journal.halt_store import HaltState
from arbexec.journal.lock import EngineLock
from arbexec.journal.records import NON_FINAL, Intent, JournalRow
from arbexec.journal.schema import SCHEMA_VERSION

__all__ = [
    "NON_FINAL",
    "SCHEMA_VERSION",
    "EngineLock",
    "HaltState",
    "Intent",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "JournalRow",
    "JournalUnusable",
    "dumps",
    "order_state_summary",
    "request_from_dict",
    "request_to_dict",
]
