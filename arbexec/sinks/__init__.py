"""Result sinks: the contract and the built-in jsonl and stdout sinks."""
