"""arbexec venue plugin: paper, a simulated prediction-market exchange.

Import ``arbexec_paper.exchange`` for the venue itself; this package's top level stays
empty so that loading the plugin costs nothing.
"""
