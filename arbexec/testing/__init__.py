"""Tools for plugin authors: the exchange conformance suite and recorded-HTTP fixtures."""
