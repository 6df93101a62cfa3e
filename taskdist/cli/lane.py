"""A typer-free lane for `taskdist import`, the command cron and editors run most.

Importing typer (and the click it vendors) costs about 30 ms, a quarter of a re-import that finds
nothing to do. This lane reads a command line only when it is plainly well formed: the command
name first, then folders and the import options written out (`--db PATH`, `--db=PATH`, `-q`,
`-p NAME`, ...). Anything else (help, an unknown or bundled option, `--`, a value that looks like an
option) is left to the typer app, which reads it exactly as before. What the lane accepts, typer
reads the same way: `tests/test_cli_lane.py` checks both against each other on generated command
lines, and the option table below against the typer command's own options.
"""

from __future__ import annotations

import os

from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# `taskdist import`: option spelling -> parameter name, as declared in `taskdist.cli.foundation`.
IMPORT_VALUES = {
    "--project": "project",
    "-p": "project",
    "--roster": "roster",
    "--format": "fmt",
    "-f": "fmt",
    "--db": "db",
    "--config": "config",
    "--now": "now",
}
IMPORT_FLAGS = {"--strict": "strict", "--quiet": "quiet", "-q": "quiet"}
IMPORT_ENVVARS = {"db": "TASKDIST_DB", "config": "TASKDIST_CONFIG"}
IMPORT_DEFAULTS: dict[str, Any] = {
    "paths": [],
    "project": None,
    "roster": None,
    "strict": False,
    "quiet": False,
    "fmt": "table",
    "db": None,
    "config": None,
    "now": None,
}


def parse_import(args: list[str]) -> dict[str, Any] | None:
    """The parameters of `taskdist import ARGS` (ARGS after the command name), or None when the lane
    does not read this command line and typer should."""
    params = dict(IMPORT_DEFAULTS)
    paths: list[str] = []
    given: set[str] = set()
    rest = iter(args)
    for token in rest:
        if not token.startswith("-"):
            paths.append(token)
            continue
        name, eq, value = token.partition("=")
        if name in IMPORT_FLAGS and not eq:
            params[IMPORT_FLAGS[name]] = True
        elif name in IMPORT_VALUES and eq and name.startswith("--"):
            params[IMPORT_VALUES[name]] = value
            given.add(IMPORT_VALUES[name])
        elif token in IMPORT_VALUES:
            following = next(rest, None)
            if following is None or following.startswith("-"):
                return None
            params[IMPORT_VALUES[token]] = following
            given.add(IMPORT_VALUES[token])
        else:
            return None  # --help, --, -, an unknown or bundled option: typer's business
    for param, envvar in IMPORT_ENVVARS.items():
        if param not in given and os.environ.get(envvar):
            params[param] = os.environ[envvar]
    params["paths"] = paths
    return params


def run(args: list[str]) -> bool:
    """Run `taskdist ARGS` here when the lane reads it; False means typer must."""
    if not args or args[0] != "import":
        return False
    params = parse_import(args[1:])
    if params is None:
        return False
    from taskdist.cli.importing import run_import

    run_import(**params)
    return True
