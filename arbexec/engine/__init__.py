"""The execution engine: a request's path from admission to its final state.

One job per module (docs/architecture.md draws the map):

* ``admission``  dedupe, route, capabilities, halt, risk context, policy, reservation
* ``dispatch``   prepare, write-ahead group commit, send, classify the answer
* ``live``       the followed orders and the one pure function applying venue updates
* ``follow``     streams, polling, catch-up after a stream ends, UNKNOWN resolution
* ``outcomes``   what each answer does to the journal, the books and the rules
* ``accounting`` positions, today's P&L, the exposure ledger, from fills
* ``recovery``   start-up recovery, reconciliation, venue comparison
* ``recorder``   journal and sinks in one call
* ``facade``     ``Engine``, wiring them together
"""

from arbexec.engine.admission import Explanation
from arbexec.engine.facade import Engine
from arbexec.engine.live import LiveOrder
from arbexec.engine.policy import OpenPolicy, PairPolicyLike, PolicyDecisionLike, PolicyLike
from arbexec.engine.settings import EngineSettings

__all__ = [
    "Engine",
    "EngineSettings",
    "Explanation",
    "LiveOrder",
    "OpenPolicy",
    "PairPolicyLike",
    "PolicyDecisionLike",
    "PolicyLike",
]
