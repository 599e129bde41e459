"""Redis Streams for arbexec: a request source, a results sink, a shared ledger and halt flag."""
