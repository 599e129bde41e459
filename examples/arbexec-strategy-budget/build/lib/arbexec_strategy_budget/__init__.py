"""A third-party arbexec risk rule: a money-at-risk budget per strategy."""

__version__ = "0.1.0"
