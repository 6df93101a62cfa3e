"""The typer application: every command, and the one-command app that a run actually builds."""

from __future__ import annotations

from typing import Any

import typer

from taskdist.cli import assignment, foundation, priority, rebalance, simulation, status

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


for _group_module in (priority, assignment, status, rebalance, simulation):
    _group_module.register(app)


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
