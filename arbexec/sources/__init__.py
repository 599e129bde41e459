"""Request sources: the contract, request parsing, and the built-in jsonl source."""
