"""Running a command as a person would, in a pseudo-terminal, to test what they see."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def in_terminal(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                timeout: float = 120) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr; its exit status
    and all it wrote (``\\r\\n`` as ``\\n``)."""
    main, side = pty.openpty()
    process = subprocess.Popen(list(argv), cwd=cwd, stdin=side, stdout=side, stderr=side,
                               env=dict(env), close_fds=True)
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    code = process.wait(timeout=timeout)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
