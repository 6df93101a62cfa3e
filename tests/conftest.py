"""Shared fixtures: a fixed clock, paths to the sample project and the real corpus, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_tasks"
CORPUS = Path(os.environ.get("TASKDIST_CORPUS", ROOT.parent / "shared" / "corpus"))
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
NOW_TEXT = "2026-11-22T09:00:00Z"


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the real ticket corpus is not at {CORPUS} (set TASKDIST_CORPUS); corpus tests need it")
    return CORPUS


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run `python -m taskdist` in a subprocess: real exit codes, real stdout/stderr separation."""
    full_env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(env or {})}
    full_env.pop("TASKDIST_DB", None) if env is None or "TASKDIST_DB" not in env else None
    proc = subprocess.run(
        [sys.executable, "-m", "taskdist", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[object]:
    def runner(*args: str, **kwargs: object) -> Result:
        return run_cli(*args, cwd=kwargs.pop("cwd", tmp_path), **kwargs)  # type: ignore[arg-type]

    yield runner


_PROBE = """
import sys
from taskdist.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 0
print("PROBE", code, ",".join(sorted(m for m in {modules!r} if m in sys.modules)), file=sys.stderr)
"""


def probe_modules(*args: str, watched: tuple[str, ...], cwd: Path = ROOT) -> tuple[int, set[str], str]:
    """Run `taskdist ARGS` in a fresh interpreter: its exit code, which `watched` modules it loaded,
    and its standard output (start-up tests: what a command imports is what it costs)."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=watched), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    line = [row for row in proc.stderr.splitlines() if row.startswith("PROBE ")][-1]
    _, code, names = line.split(" ")
    return int(code), set(filter(None, names.split(","))), proc.stdout
