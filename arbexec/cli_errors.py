"""One error format for the whole command line, plugin commands included.

A user mistake is one line on stderr, ``error: <what>; see `<command> --help```, and exit
status 2; a runtime failure is ``error: <what>`` and status 1; a network failure names the
host, the step that failed, whether anything was sent and what to do. Never a click usage
dump, never a traceback for either.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from arbexec.errors import ArbexecError, UserError
from arbexec.exit_codes import ERROR, USAGE


def _line(message: str) -> str:
    text = " ".join(message.split())
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def usage_line(exc: click.UsageError) -> str:
    """``error: <message>; see `arbexec order place --help```."""
    message = exc.format_message().rstrip(".")
    ctx = exc.ctx
    if ctx is not None and ctx.command_path:
        return _line(f"error: {message}; see `{ctx.command_path} --help`")
    return _line(f"error: {message}")


def fail(message: str, code: int) -> NoReturn:
    click.echo(_line(f"error: {message}"), err=True)
    sys.exit(code)


def run_with_one_line_errors(main: Callable[[], Any]) -> NoReturn:
    """Run a click ``main`` (non-standalone) and exit as a standalone one would, with every
    failure a person can act on reduced to one line."""
    from arbexec.network_errors import describe_network_error

    try:
        result = main()
    except click.UsageError as exc:
        click.echo(usage_line(exc), err=True)
        sys.exit(USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        fail("aborted", ERROR)
    except UserError as exc:  # a plugin command's mistake, as the core's: one line
        fail(str(exc), USAGE)
    except ArbexecError as exc:  # a failure arbexec raised on purpose, with its message
        fail(str(exc), ERROR)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # the reader went away (| head): nothing to say
            sys.stdout = None
            sys.exit(ERROR)
        described = describe_network_error(exc)
        if described is None:
            fail(f"{exc.strerror or exc} ({getattr(exc, 'filename', None) or type(exc).__name__})",
                 ERROR)
        fail(described, ERROR)
    except Exception as exc:
        described = describe_network_error(exc)
        if described is None:
            raise  # a defect: its traceback is what a bug report needs
        fail(described, ERROR)
    sys.exit(result if isinstance(result, int) and not isinstance(result, bool) else 0)
