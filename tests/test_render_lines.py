"""Plain-line reports (the import report): styled exactly when rich would style, recorded for --export,
and free of rich unless a progress bar is really shown."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from taskdist.render import Output, styling
from tests.conftest import ROOT

_ABSENT = None
environments = st.fixed_dictionaries(
    {
        "TTY_COMPATIBLE": st.sampled_from([_ABSENT, "", "0", "1", "2"]),
        "FORCE_COLOR": st.sampled_from([_ABSENT, "", "0", "1"]),
        "TERM": st.sampled_from([_ABSENT, "", "dumb", "DUMB", "unknown", "xterm-256color", "vt100"]),
        "NO_COLOR": st.sampled_from([_ABSENT, "", "1"]),
    }
).map(lambda env: {k: v for k, v in env.items() if v is not _ABSENT})


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@given(environ=environments, tty=st.booleans())
def test_styling_is_rich_s_verdict(environ: dict[str, str], tty: bool) -> None:
    stream = _Stream(tty)
    console = Console(file=stream, _environ=environ)
    assert styling(stream, environ) == (console.color_system is not None, console.color_system is not None
                                        and not console.no_color)  # fmt: skip


def _printed(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], export: str | None = None) -> str:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    stdout = _Stream(tty=False)
    monkeypatch.setattr(sys, "stdout", stdout)
    out = Output(export=export)
    out.lines([("summary", "bold"), ("  a.md:3: bad", "red"), ("note", "")])
    out.finish()
    return stdout.getvalue()


def test_lines_are_plain_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _printed(monkeypatch, {}) == "summary\n  a.md:3: bad\nnote\n"


def test_lines_are_styled_on_a_terminal_and_keep_bold_under_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = _printed(monkeypatch, {"FORCE_COLOR": "1", "TERM": "xterm"})
    assert coloured == "\x1b[1msummary\x1b[0m\n\x1b[31m  a.md:3: bad\x1b[0m\nnote\n"
    plain_colours = _printed(monkeypatch, {"FORCE_COLOR": "1", "TERM": "xterm", "NO_COLOR": "1"})
    assert plain_colours == "\x1b[1msummary\x1b[0m\n  a.md:3: bad\nnote\n"
    assert _printed(monkeypatch, {"FORCE_COLOR": "1", "TERM": "dumb"}) == "summary\n  a.md:3: bad\nnote\n"


def test_lines_are_recorded_for_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    export = tmp_path / "report.html"
    printed = _printed(monkeypatch, {}, export=str(export))
    assert printed == "summary\n  a.md:3: bad\nnote\n"
    html = export.read_text(encoding="utf-8")
    assert "summary" in html and "a.md:3: bad" in html


_PROGRESS = """
import sys
from taskdist.render import Output
from taskdist.render.foundation import import_progress
with import_progress(Output(), enabled=True) as advance:
    advance(50, {total})
    print("rich.progress" in sys.modules, "rich" in sys.modules)
"""


@pytest.mark.parametrize(("total", "loaded"), [(150, "False False"), (250, "True True")])
def test_the_progress_bar_loads_rich_only_when_shown(total: int, loaded: str) -> None:
    # A re-import on a terminal reads nothing, shows no bar, and must not pay for rich.progress.
    proc = subprocess.run(
        [sys.executable, "-c", _PROGRESS.format(total=total)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, loaded), proc.stderr
