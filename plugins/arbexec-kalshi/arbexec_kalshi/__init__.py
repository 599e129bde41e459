"""arbexec venue plugin for Kalshi (Trade API v2, event-order endpoints, single YES book).

Importing the package is cheap; ``cryptography`` and ``websockets`` are imported only by
the modules that need them, when a venue is built or a command runs.
"""
