"""Ticket text can neither style nor control the terminal, in any report, in any format.

A ticket folder carries rich markup (`[bold red]`, `[link=...]`) and terminal escapes (SGR, OSC 8
hyperlinks, OSC 0 window titles, the 8-bit CSI 0x9b, BEL) in every field a report shows: titles,
assignees, raw status and priority, skills, project names, file paths, agent names, and an error
message that quotes file content. Every report runs as a subprocess on a forced colour terminal, so
rich does emit its own styling; the output may contain rich's SGR sequences and nothing else of the
kind, and the payloads show as visible text.

To cover a new report, add it to REPORTS (commands missing from `taskdist --help` are skipped).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskdist.render import safe
from tests.conftest import NOW_TEXT, ROOT

MARKUP = "[bold red]MARK[/]"
LINK = "[link=http://evil.example]LINK[/link]"
SGR = "\x1b[31mSGR"
OSC8 = "\x1b]8;;http://evil.example\x07OSC8"
OSC0 = "\x1b]0;pwned\x07TITLE"
CSI8 = "\x9b2JCSI"
PAYLOADS = (MARKUP, LINK, SGR, OSC8, OSC0, CSI8)
# File and folder names cannot hold '/': the same attacks without it.
PATH_PAYLOAD = "[bold red]P [link=evil]L \x1b[31mS \x1b]8;;evil\x07O \x1b]0;t\x07T \x9bC"
EVERYTHING = " ".join(PAYLOADS)
TICKET = "EVIL-1"
AGENT = "evil-agent"

# Rich's own styling: Select Graphic Rendition, nothing else (no OSC, no cursor movement).
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Report:
    """A command to run against the hostile ledger: its arguments and the formats it takes."""

    command: str
    args: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("table", "json", "csv")
    must_succeed: bool = True


# One entry per report. Later commands are listed already; they run once `taskdist --help` has them.
REPORTS = [
    Report("import", ("{folder}", "--roster", "{roster}")),
    Report("tickets"),
    Report("show", (TICKET,)),
    Report("agents"),
    Report("queue"),
    Report("explain", (TICKET,)),
    Report("status"),
    Report("runs"),
    Report("history", (TICKET,)),
    # A ticket of the project whose name is the payload: titles and headings that name the project.
    Report("show", ("EVIL-9", "--project", EVERYTHING)),
    Report("explain", ("EVIL-9", "--project", EVERYTHING)),
    Report("history", ("EVIL-9", "--project", EVERYTHING)),
    Report("tickets", ("--project", EVERYTHING)),
    Report("queue", ("--project", EVERYTHING)),
    Report("assign"),
    Report("next", (AGENT,)),
    Report("rebalance", formats=("table", "json")),
    Report("simulate"),
]


def _yaml_text(value: str) -> str:
    """A YAML double-quoted scalar holding `value` exactly (escapes spelled as YAML escapes)."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _ticket(ticket_id: str, title: str, **fields: str) -> str:
    lines = [f"id: {ticket_id}", f"title: {_yaml_text(title)}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n# body\n\n" + EVERYTHING + "\n- [ ] " + EVERYTHING + "\n"


@dataclass(frozen=True)
class Hostile:
    """The prepared workspace: a ledger holding hostile text everywhere, and the paths used to build it."""

    cwd: Path
    db: Path
    folder: Path
    roster: Path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    base = tmp_path_factory.mktemp("terminal")
    folder = base / PATH_PAYLOAD / "tasks"
    folder.mkdir(parents=True)
    payload = _yaml_text(EVERYTHING)
    (folder / "EVIL-1.md").write_text(
        _ticket(
            TICKET,
            EVERYTHING,
            status=payload,
            priority=payload,
            assignee=_yaml_text(AGENT + " " + EVERYTHING),
            required_skills=f"[{payload}]",
            client_tier=payload,
            due_date="2026-11-25",
            estimated_hours="3",
            dependencies="[EVIL-2]",
        ),
        encoding="utf-8",
    )
    (folder / "EVIL-2.md").write_text(
        _ticket("EVIL-2", "blocker " + EVERYTHING, assignee=AGENT, status="in_progress"), encoding="utf-8"
    )
    (folder / f"EVIL-3 {PATH_PAYLOAD}.md").write_text(_ticket("EVIL-3", "path " + EVERYTHING), encoding="utf-8")
    # An error message that quotes file content: a tag spelled with %-escapes decodes to ESC sequences.
    (folder / "EVIL-4.md").write_text(
        "---\nid: EVIL-4\nx: !<%1B%5B31m%1B%5D0%3Bpwned%07[bold]tag> y\n---\n", encoding="utf-8"
    )
    # Not UTF-8: read as Windows-1252 (0x9b is a quote mark there), then as Latin-1 when 0x9d rules that
    # out: the body holds the 8-bit CSI then.
    (folder / "EVIL-5.md").write_bytes(b"---\nid: EVIL-5\ntitle: latin \x9b2J \xe9\n---\nbody \x9b2J\n")
    (folder / "EVIL-6.md").write_bytes(b"---\nid: EVIL-6\ntitle: latin\n---\nbody \x9d \x9b2J \x1b[31mSGR\n")
    roster = base / "roster.yaml"
    roster.write_text(
        "agents:\n"
        f"  - id: {AGENT}\n"
        f"    name: {_yaml_text(EVERYTHING)}\n"
        f"    skills: {{{payload}: 0.9, python: 0.9}}\n"
        "    capacity_hours: 40\n"
        "    max_tasks: 5\n"
        f"    aliases: [{_yaml_text(AGENT + ' ' + EVERYTHING)}]\n",
        encoding="utf-8",
    )
    db = base / "ledger.db"
    result = run(base, "import", str(folder), "--roster", str(roster), "--db", str(db), "--now", NOW_TEXT)
    assert result.returncode == 0, result.stderr
    # A second project whose name (given with --project) is the full payload.
    other = base / "other"
    other.mkdir()
    (other / "EVIL-9.md").write_text(_ticket("EVIL-9", "other " + EVERYTHING), encoding="utf-8")
    result = run(base, "import", str(other), "--project", EVERYTHING, "--db", str(db), "--now", NOW_TEXT)
    assert result.returncode == 0, result.stderr
    return Hostile(base, db, folder, roster)


def _terminal_env() -> dict[str, str]:
    """A forced colour terminal, wide enough that no payload is wrapped."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TASKDIST_DB", "TASKDIST_CONFIG")}
    env.update({"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "400", "LINES": "50"})
    return env


def run_fresh(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m taskdist ARGS` in a new process on the forced terminal."""
    return subprocess.run(
        [sys.executable, "-m", "taskdist", *args],
        cwd=cwd,
        env=_terminal_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=120,
    )


# Runs the real entry point (`taskdist.cli.main`, error boundary included) once per request line, with
# stdout and stderr captured: one interpreter start-up for the whole module instead of one per command.
_SESSION = """
import contextlib, io, json, os, sys
from taskdist.cli import main
for line in sys.stdin:
    cwd, argv = json.loads(line)
    os.chdir(cwd)
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\\n")
    sys.stdout.flush()
"""


class CliSession:
    """A `python` process running CLI commands on request, on the forced terminal."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SESSION],
            cwd=ROOT,
            env=_terminal_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="ascii",
        )

    def run(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([str(cwd), list(args)]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the CLI session died running {args!r} (exit {self.proc.poll()})"
        code, out, err = json.loads(line)
        return subprocess.CompletedProcess(list(args), code, out, err)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


_session: list[CliSession] = []


@pytest.fixture(scope="module", autouse=True)
def cli_session() -> Iterator[None]:
    _session.append(CliSession())
    yield
    _session.pop().close()


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI command in the module's session process."""
    return _session[-1].run(cwd, *args)


@cache
def available_commands() -> frozenset[str]:
    result = subprocess.run(
        [sys.executable, "-m", "taskdist", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=60,
    )
    return frozenset(re.findall(r"^│ (\w[\w-]*) ", result.stdout, re.MULTILINE))


def assert_terminal_safe(output: str) -> str:
    """No escape sequence but rich's SGR styling, no raw payload; return the text with styling removed."""
    plain = RICH_SGR.sub("", output)
    controls = sorted({f"0x{ord(c):02x}" for c in CONTROL.findall(plain)})
    assert not controls, f"raw control characters in the output: {controls}"
    # The one payload shaped like rich's own styling: ESC [ 31 m right before the payload's text.
    for piece in ("\x1b[31mSGR", "\x1b[31mS "):
        assert piece not in output, f"raw escape sequence {piece!r} reached the output"
    return plain


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _cases() -> Iterator[Any]:
    for report in REPORTS:
        for fmt in report.formats:
            project = "-evil-project" if EVERYTHING in report.args else ""
            yield pytest.param(report, fmt, id=f"{report.command}{project}-{fmt}")


@pytest.mark.parametrize(("report", "fmt"), list(_cases()))
def test_report_shows_hostile_text_literally(hostile: Hostile, report: Report, fmt: str) -> None:
    if report.command not in available_commands():
        pytest.skip(f"`taskdist {report.command}` does not exist yet")
    args = [a.format(folder=hostile.folder, roster=hostile.roster) for a in report.args]
    result = run(hostile.cwd, report.command, *args, "--format", fmt, "--db", str(hostile.db), "--now", NOW_TEXT)
    if result.returncode == 2 and "--format" in result.stderr:
        pytest.skip(f"`taskdist {report.command}` has no --format {fmt}")
    assert "Traceback" not in result.stderr
    if report.must_succeed:
        assert result.returncode == 0, result.stderr
    stdout = assert_terminal_safe(result.stdout)
    assert_terminal_safe(result.stderr)
    if fmt == "json":
        for text in _strings(json.loads(result.stdout)):
            assert not CONTROL.search(text), f"a control character inside a JSON string: {text!r}"
    if fmt == "table" and result.stdout.strip():
        assert RICH_SGR.search(result.stdout), "rich did not style the table: the terminal was not forced"
    if report.command in ("tickets", "show", "queue") and EVERYTHING not in report.args:
        # The title is on these reports: its markup and escapes print as text, in every format.
        shown = stdout if fmt != "json" else json.dumps(json.loads(result.stdout), ensure_ascii=False)
        expected = safe(MARKUP) if fmt != "json" else json.dumps(safe(MARKUP))[1:-1]
        assert expected in shown
        for payload in (SGR, OSC8, CSI8):
            visible = safe(payload)
            assert (visible if fmt != "json" else json.dumps(visible)[1:-1]) in shown


def test_markup_and_escapes_are_visible_in_the_tables(hostile: Hostile) -> None:
    # A process of its own, as a user runs it: the session's capture must not be what keeps it safe.
    result = run_fresh(hostile.cwd, "tickets", "--db", str(hostile.db), "--now", NOW_TEXT)
    assert RICH_SGR.search(result.stdout)
    error = run_fresh(hostile.cwd, "show", EVERYTHING, "--db", str(hostile.db), "--now", NOW_TEXT)
    assert error.returncode == 2 and error.stderr.startswith("Error: no ticket ")
    assert safe(MARKUP) in assert_terminal_safe(error.stderr)
    plain = assert_terminal_safe(result.stdout)
    for payload in PAYLOADS:
        assert safe(payload) in plain, payload
    assert "\\x1b[31mSGR" in plain and "[link=http://evil.example]LINK[/link]" in plain
    shown = run(hostile.cwd, "show", TICKET, "--db", str(hostile.db), "--now", NOW_TEXT)
    plain = assert_terminal_safe(shown.stdout)
    for payload in PAYLOADS:
        assert safe(payload) in plain, payload
    # The project named by the payload and the payload folder in the file path, shown as text.
    listed = assert_terminal_safe(
        run(hostile.cwd, "tickets", "--project", EVERYTHING, "--db", str(hostile.db), "--now", NOW_TEXT).stdout
    )
    assert safe(MARKUP) in listed and "EVIL-9" in listed


def test_agents_table_shows_names_and_skills_literally(hostile: Hostile) -> None:
    result = run(hostile.cwd, "agents", "--db", str(hostile.db), "--now", NOW_TEXT)
    assert result.returncode == 0, result.stderr
    plain = assert_terminal_safe(result.stdout)
    assert safe(MARKUP) in plain and safe(OSC0) in plain


def test_import_report_quotes_file_content_safely(hostile: Hostile) -> None:
    result = run(
        hostile.cwd, "import", str(hostile.folder), "--db", str(hostile.db), "--now", NOW_TEXT, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result.stdout)
    report = json.loads(result.stdout)
    (error,) = [e for e in report["errors"] if e["path"].endswith("EVIL-4.md")]
    # The decoded tag holds ESC [ 31 m: the reason quotes it, escaped.
    assert "\\x1b[31m" in error["reason"] and "\\x1b]0;pwned\\x07" in error["reason"]
    warned = {Path(w["path"]).name: w["reason"] for w in report["warnings"] if "UTF-8" in w["reason"]}
    assert warned["EVIL-5.md"].endswith("read as Windows-1252 (Latin-1)")
    assert warned["EVIL-6.md"].endswith("read as Latin-1")
    shown = run(hostile.cwd, "show", "EVIL-6", "--db", str(hostile.db), "--now", NOW_TEXT, "--format", "json")
    assert_terminal_safe(shown.stdout)
    assert json.loads(shown.stdout)["body"] == "body \\x9d \\x9b2J \\x1b[31mSGR\n"
    table = run(hostile.cwd, "import", str(hostile.folder), "--db", str(hostile.db), "--now", NOW_TEXT)
    plain = assert_terminal_safe(table.stdout)
    assert "\\x1b[31m" in plain and safe(PATH_PAYLOAD) in plain


@pytest.mark.parametrize(
    "args",
    [
        ("show", EVERYTHING),
        ("show", f"x:{EVERYTHING}"),
        ("explain", EVERYTHING),
        ("history", EVERYTHING),
        ("tickets", "--status", EVERYTHING),
        ("show", TICKET, "--format", EVERYTHING),
        ("import", f"/nonexistent/{EVERYTHING}"),
    ],
    ids=["show-id", "show-project-id", "explain-id", "history-id", "tickets-status", "format", "import-path"],
)
def test_error_line_shows_a_hostile_argument_literally(hostile: Hostile, args: tuple[str, ...]) -> None:
    if args[0] not in available_commands():
        pytest.skip(f"`taskdist {args[0]}` does not exist yet")
    result = run(hostile.cwd, *args, "--db", str(hostile.db), "--now", NOW_TEXT)
    assert result.returncode != 0
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    plain = assert_terminal_safe(result.stderr)
    assert assert_terminal_safe(result.stdout) == ""
    assert "[bold red]MARK[/]" in plain and "\\x1b" in plain


# What `safe` did with a regular expression before it became a translation table (re stays out of a
# re-import), as the reference: every C0 control but tab and newline, DEL and C1, as visible \\xNN.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF)))
def test_safe_shows_exactly_the_control_characters_as_escapes(text: str) -> None:
    expected = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    assert safe(text, single_line=False) == expected
    assert safe(text) == expected.replace("\r", " ").replace("\n", " ").replace("\t", " ")
