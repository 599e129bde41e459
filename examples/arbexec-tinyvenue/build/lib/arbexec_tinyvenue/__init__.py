"""A tiny third-party venue for arbexec."""
