"""The venue toolkit: what every venue adapter needs and should not write twice.

Part of the declared plugin API (plugins import these names from ``arbexec.api``):

- ``delivery``: the send-once rule, which transport failures prove a request was not sent;
- ``retry``: read retries with jittered backoff that honour a capped ``Retry-After``;
- ``ratelimit``: a client-side token bucket with per-call costs, limits kept as data;
- ``refusals``: the baseline mapping of HTTP statuses to the error hierarchy, extended by
  each venue's own fragment table;
- ``numbers``: venue JSON decoded with exact numbers, and malformed numbers as errors;
- ``batch``: batch answers matched to orders by identity, never by position;
- ``stream``: the one reconnecting venue stream (reconnect, resync, watchdog, polling).
"""
