"""The `taskdist` command line: thin commands over the library, one error boundary.

Each command parses options, opens the ledger, calls one core function and renders. Every
`TaskdistError` becomes `Error: <what happened, what to do>` on stderr with the error's exit code;
an unexpected exception is reported the same way (exit 1), never as a traceback, unless
TASKDIST_DEBUG is set.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from taskdist.cli import foundation

HELP = "Task distribution engine: import markdown tickets, rank them, assign them optimally, track and escalate."
_SETTINGS: dict[str, Any] = {
    "name": "taskdist",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(help=HELP, **_SETTINGS)
foundation.register(app)


def _register_optional() -> None:
    """Command groups added by later modules register themselves here."""
    import importlib

    for name in ("priority", "assignment", "status", "rebalance", "simulation"):
        try:
            module = importlib.import_module(f"taskdist.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"taskdist.cli.{name}":
                raise
            continue
        module.register(app)


_register_optional()


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs `taskdist ARGS`: for `taskdist COMMAND ...`, one that holds only COMMAND.

    Before parsing anything typer turns the signature of every registered command into click
    parameters (evaluating their annotations): a few milliseconds per command, paid on every run.
    Building only the command that runs keeps that cost from growing with the command set. Anything
    else (`--help`, no or an unknown command) gets the whole app.
    """
    chosen = [c for c in app.registered_commands if args and c.name == args[0]]
    if not chosen:
        return app
    single = typer.Typer(help=HELP, **_SETTINGS)
    single.registered_commands = chosen
    # A callback keeps it a group, so that `taskdist COMMAND` still names the command.
    single.callback()(_group)
    return single


def _group() -> None:
    """Task distribution engine."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point with the one error boundary."""
    from taskdist.errors import TaskdistError

    args = sys.argv[1:] if argv is None else argv
    try:
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
