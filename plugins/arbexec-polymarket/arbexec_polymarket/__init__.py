"""arbexec venue plugin: polymarket."""
