"""The typer-free lane for `taskdist import` reads a command line exactly as the typer command does,
or declines it; and a re-import through it loads neither typer nor dataclasses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.core import TyperGroup

from taskdist.cli import lane
from taskdist.cli.commands import app_for
from tests.conftest import NOW_TEXT, SAMPLE, probe_modules, run_cli

# Tokens a command line for `taskdist import` is drawn from: folders, every spelling of every
# option, values, and what the lane must leave to typer (help, `--`, bundles, unknown options).
TOKENS = [
    "tasks",
    "other/folder",
    "",
    "-",
    "--",
    "--db",
    "--db=x.db",
    "--db=",
    "x.db",
    "--config",
    "--config=c.yaml",
    "--project",
    "-p",
    "-pname",
    "-p=name",
    "--project=name",
    "name",
    "--roster",
    "roster.yaml",
    "--format",
    "--format=json",
    "-f",
    "json",
    "JSON",
    "-fjson",
    "--now",
    "2026-11-22T09:00:00Z",
    "--strict",
    "--strict=1",
    "--quiet",
    "-q",
    "-qf",
    "--help",
    "-h",
    "--bogus",
    "--no-quiet",
]
ENVVARS = ("TASKDIST_DB", "TASKDIST_CONFIG")


def _typer_params(args: list[str]) -> dict[str, Any] | None:
    """What typer hands the import command for `taskdist import ARGS`, or None if it refuses them."""
    group = typer.main.get_command(app_for(["import"]))
    assert isinstance(group, TyperGroup)
    command = group.commands["import"]
    try:
        ctx = command.make_context("import", list(args))
    except Exception as exc:  # typer's vendored click: usage errors and --help exits
        if type(exc).__name__ in ("UsageError", "NoSuchOption", "BadOptionUsage", "BadParameter", "Exit"):
            return None
        raise
    params = dict(ctx.params)
    params["paths"] = list(params["paths"] or [])
    return params


def _set(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """These environment variables set (None: unset) for the block. Not pytest's monkeypatch: a
    function-scoped fixture is not reset between hypothesis examples."""
    saved = {name: os.environ.get(name) for name in values}
    _set(values)
    try:
        yield
    finally:
        _set(saved)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    args=st.lists(st.sampled_from(TOKENS), max_size=7),
    env=st.fixed_dictionaries({name: st.sampled_from([None, "", "env.db"]) for name in ENVVARS}),
)
def test_what_the_lane_reads_typer_reads_the_same_way(args: list[str], env: dict[str, str | None]) -> None:
    with _environment(env):
        ours = lane.parse_import(args)
        if ours is not None:
            assert ours == _typer_params(args), args


@pytest.mark.parametrize(
    "args",
    [
        ["tasks"],
        ["a", "b", "--db", "x.db", "-q", "--format", "json", "--now", "2026-11-22"],
        ["--project=p", "tasks", "--roster", "r.yaml", "--strict", "-f", "csv", "--config", "c.yaml"],
        [],
    ],
)
def test_the_lane_reads_the_plain_spellings(args: list[str]) -> None:
    # The property above only constrains what the lane accepts; these it must accept.
    assert lane.parse_import(args) == _typer_params(args)


@pytest.mark.parametrize(
    "args", [["--help"], ["tasks", "-h"], ["--", "tasks"], ["-qf", "json"], ["--db"], ["--db", "-q"], ["--bogus"]]
)
def test_the_lane_leaves_everything_else_to_typer(args: list[str]) -> None:
    assert lane.parse_import(args) is None


def test_the_lane_table_is_the_typer_command_s_options() -> None:
    group = typer.main.get_command(app_for(["import"]))
    assert isinstance(group, TyperGroup)
    values: dict[str, str] = {}
    flags: dict[str, str] = {}
    envvars: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    for param in group.commands["import"].params:
        assert param.name is not None
        defaults[param.name] = [] if param.name == "paths" else param.default
        if param.param_type_name != "option":
            continue
        assert not param.secondary_opts and not param.multiple  # the lane knows no --no-X or repeats
        table = flags if getattr(param, "is_flag", False) else values
        table.update(dict.fromkeys(param.opts, param.name))
        if param.envvar:
            envvars[param.name] = str(param.envvar)
    assert (values, flags, envvars) == (lane.IMPORT_VALUES, lane.IMPORT_FLAGS, lane.IMPORT_ENVVARS)
    assert defaults == lane.IMPORT_DEFAULTS


def test_a_command_other_than_import_goes_to_typer() -> None:
    assert not lane.run(["tickets"]) and not lane.run([]) and not lane.run(["--help"])


def test_a_re_import_through_the_lane_loads_neither_typer_nor_dataclasses_nor_rich(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    args = ["import", str(SAMPLE), "--db", str(db), "--now", NOW_TEXT, "-q"]
    assert run_cli(*args).exit_code == 0
    heavy = ("typer", "click", "yaml", "taskdist.models", "hashlib", "sqlite_utils")
    # typing and pathlib (with urllib behind it): about 6 ms of a re-import that took 60; json with re
    # and enum behind it, 4.5 ms more (taskdist.json_quote). The sample has errors, a warning, a skip.
    watched = (*heavy, "dataclasses", "inspect", "rich", "typing", "pathlib", "urllib", "json", "re")
    assert probe_modules(*args, "--format", "json", watched=watched)[:2] == (0, set()), "a JSON re-import"
    # The report for people is plain lines: no rich either (about 65 ms of start-up on this machine).
    assert probe_modules(*args, watched=watched)[:2] == (0, set()), "a re-import with the default report"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T09:00:00Z",
        "2026-11-22",
        "2026-11-22 09:00",
        "2026-11-22T09:00:00+05:30",
        "2026-11-22T09:00:00.123456",
        "0001-01-01T00:00:00+01:00",
        " 2026-11-22 ",
        "'2026-11-22'",
        "2026-11-22t09:00:00z",
    ],
)
def test_now_reads_exactly_as_ticket_dates_do(text: str) -> None:
    from taskdist.cli.context import parse_now
    from taskdist.errors import UsageError
    from taskdist.tickets.normalize import normalize_datetime

    expected = normalize_datetime(text)
    if expected is None:
        with pytest.raises(UsageError):
            parse_now(text)
    else:
        assert parse_now(text) == expected
