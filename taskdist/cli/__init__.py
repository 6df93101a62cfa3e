"""The `taskdist` command line: thin commands over the library, one error boundary.

Each command parses options, opens the ledger, calls one core function and renders. Every
`TaskdistError` becomes `Error: <what happened, what to do>` on stderr with the error's exit code;
an unexpected exception is reported the same way (exit 1), never as a traceback, unless
TASKDIST_DEBUG is set.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point with the one error boundary."""
    from taskdist.cli import lane
    from taskdist.errors import TaskdistError

    args = sys.argv[1:] if argv is None else argv
    try:
        if not lane.run(args):
            from taskdist.cli.commands import app_for

            code = app_for(args)(args=args, prog_name="taskdist", standalone_mode=False)
            if isinstance(code, int) and code:
                sys.exit(code)
    except TaskdistError as exc:
        _error(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted; the ledger was left as it was before this command", 130)
    except BrokenPipeError:
        # `taskdist queue | head`: the reader went away; nothing to report.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except SystemExit:
        raise
    except Exception as exc:
        # typer vendors click: recognise its usage errors by shape, not by class.
        if type(exc).__name__ == "Abort":
            _error("aborted", 1)
        exit_code = getattr(exc, "exit_code", None)
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        if os.environ.get("TASKDIST_DEBUG"):
            raise
        _error(
            f"unexpected {type(exc).__name__}: {exc}. This is a bug in taskdist; rerun with TASKDIST_DEBUG=1 "
            "for the details and report it",
            1,
        )
    sys.exit(0)


def _error(message: str, code: int) -> None:
    from taskdist.render import safe

    sys.stderr.write(f"Error: {safe(message, single_line=False)}\n")
    sys.exit(code)
