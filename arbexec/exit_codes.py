"""Exit statuses of the command line (docs/user-guide.md, "Exit status")."""

#: Finished, nothing needs a person (DENIED and REJECTED orders are outcomes, not errors).
OK = 0
#: A runtime error: a venue call failed, an unreadable journal.
ERROR = 1
#: A user mistake: bad option or argument, configuration, unknown name, locked journal.
USAGE = 2
#: Finished, but something needs a person: an order left UNKNOWN, a pair EXPOSED, a halt
#: during the run, an order that could not be cancelled.
ATTENTION = 3
