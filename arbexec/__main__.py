"""``python -m arbexec``: the same as the ``arbexec`` command."""

from arbexec.cli import main

main()
