"""Running a command as a person would, in a pseudo-terminal, to test what they see."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def in_terminal(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                timeout: float = 120, interrupt_after: float | None = None) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr; its exit status
    and all it wrote (``\\r\\n`` as ``\\n``). ``interrupt_after``: press Ctrl-C (SIGINT)
    after that many seconds, as a person stops a live view."""
    main, side = pty.openpty()
    process = subprocess.Popen(list(argv), cwd=cwd, stdin=side, stdout=side, stderr=side,
                               env=dict(env), close_fds=True)
    os.close(side)
    chunks: list[bytes] = []
    deadline = None if interrupt_after is None else time.monotonic() + interrupt_after
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            process.send_signal(signal.SIGINT)
            deadline = None
        ready, _, _ = select.select([main], [], [], 0.05)
        if not ready and (process.poll() is None or deadline is not None):
            continue  # nothing to read yet; once the child is gone, drain what is left
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
