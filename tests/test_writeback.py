"""Write-back changes only the assignee value's bytes, refuses a file changed since import, and keeps
the ledger in step so the next import sees nothing new."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.config import LimitsConfig
from taskdist.errors import WriteBackRefused
from taskdist.tickets.frontmatter import load_yaml, split
from taskdist.tickets.writeback import assignee_edit, edit_scalar
from tests.assignment_tools import ticket_a, ticket_b, write_project
from tests.conftest import NOW_TEXT, run_cli

ONE_AGENT = "agents:\n  - id: backend-1\n    skills: {python: 0.9, backend: 0.9}\n    max_tasks: 5\n"


def import_and_apply(tmp_path: Path, files: dict[str, str], *extra: str) -> tuple[Path, Path, dict]:  # type: ignore[type-arg]
    folder = tmp_path / "proj"
    roster = write_project(folder, files, ONE_AGENT)
    db = tmp_path / "ledger.db"
    result = run_cli(
        "import",
        str(folder / "tasks"),
        "--project",
        "proj",
        "--roster",
        str(roster),
        "--db",
        str(db),
        "--now",
        NOW_TEXT,
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    result = run_cli(
        "assign", "--apply", "--write-back", "--format", "json", "--db", str(db), "--now", NOW_TEXT, *extra
    )
    return folder / "tasks", db, {"code": result.exit_code, "out": result.stdout, "err": result.stderr}


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        (ticket_a("T-1"), b"assignee: unassigned\n", b"assignee: backend-1\n"),
        (ticket_a("T-1").replace("\n", "\r\n"), b"assignee: unassigned\r\n", b"assignee: backend-1\r\n"),
        (ticket_a("T-1", assignee='"unassigned"  # nobody yet'), b'"unassigned"  #', b'"backend-1"  #'),
        (ticket_a("T-1", assignee="''"), b"assignee: ''", b"assignee: 'backend-1'"),
        (ticket_a("T-1", assignee=""), b"assignee: \n", b"assignee: backend-1\n"),
        (ticket_b("T-1"), b"assignees: []\n", b"assignees: [backend-1]\n"),
        (ticket_b("T-1", assignees="\n- unassigned"), b"- unassigned\n", b"- backend-1\n"),
        ("\ufeff" + ticket_a("T-1"), b"assignee: unassigned\n", b"assignee: backend-1\n"),
    ],
)
def test_write_back_changes_only_the_assignee_bytes(tmp_path: Path, text: str, old: bytes, new: bytes) -> None:
    tasks, db, result = import_and_apply(tmp_path, {"T-1.md": text})
    assert result["code"] == 0, result["err"]
    path = tasks / "T-1.md"
    before = text.encode("utf-8")
    assert before.count(old) == 1
    assert path.read_bytes() == before.replace(old, new)
    plan = json.loads(result["out"])
    assert plan["written_files"] == [str(path)]
    # The ledger remembers the new bytes: the next import sees no change and writes nothing.
    again = run_cli("import", str(tasks), "--project", "proj", "--db", str(db), "--now", NOW_TEXT, "--format", "json")
    report = json.loads(again.stdout)
    assert (report["updated"], report["imported"]) == (0, 0)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT assignee FROM tickets WHERE id = 'T-1'").fetchone()[0] == "backend-1"
    assert conn.execute("SELECT file_assignee, state FROM assignments").fetchone() == ("backend-1", "applied")
    conn.close()


def test_a_file_without_an_assignee_field_gets_one_line(tmp_path: Path) -> None:
    text = ticket_a("T-1").replace("assignee: unassigned\n", "")
    tasks, _, result = import_and_apply(tmp_path, {"T-1.md": text})
    assert result["code"] == 0, result["err"]
    fence = text.index("---\n", 4)
    assert (tasks / "T-1.md").read_text(encoding="utf-8") == text[:fence] + "assignee: backend-1\n" + text[fence:]


def test_a_file_changed_since_import_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    roster = write_project(folder, {"T-1.md": ticket_a("T-1"), "T-2.md": ticket_a("T-2")}, ONE_AGENT)
    db = tmp_path / "ledger.db"
    run_cli(
        "import",
        str(folder / "tasks"),
        "--project",
        "proj",
        "--roster",
        str(roster),
        "--db",
        str(db),
        "--now",
        NOW_TEXT,
        "-q",
    )
    edited = ticket_a("T-2").replace("title: Task T-2", "title: Edited by hand")
    (folder / "tasks" / "T-2.md").write_text(edited, encoding="utf-8")
    untouched = (folder / "tasks" / "T-1.md").read_bytes()
    db_before = db.read_bytes()
    result = run_cli("assign", "--apply", "--write-back", "--db", str(db), "--now", NOW_TEXT)
    assert result.exit_code == 65
    assert "T-2.md changed since it was imported; run `taskdist import` and plan again" in result.stderr
    assert (folder / "tasks" / "T-1.md").read_bytes() == untouched
    assert (folder / "tasks" / "T-2.md").read_text(encoding="utf-8") == edited
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM assignments").fetchone()[0] == 0
    conn.close()
    assert db.read_bytes() == db_before


def test_block_values_are_refused() -> None:
    text = "---\nid: X\nassignee:\n  name: someone\n---\nbody\n"
    with pytest.raises(WriteBackRefused, match="holds a block"):
        edit_scalar(text, "assignee", "backend-1")


AGENTS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. @'\":#", min_size=1, max_size=20).filter(
    lambda s: (
        s.strip() == s
        and s.lower() not in ("unassigned", "none", "null", "nobody", "n/a", "tbd", "-", "[]")
        and not s.startswith("@")
    )
)


@settings(max_examples=80, deadline=None)
@given(agent=AGENTS, style=st.sampled_from(["unassigned", '"someone"', "'x'", "", "null"]), crlf=st.booleans())
def test_any_agent_name_reads_back_and_nothing_else_changes(agent: str, style: str, crlf: bool) -> None:
    from taskdist.config import LimitsConfig
    from taskdist.tickets.frontmatter import read_frontmatter

    text = ticket_a("T-1", assignee=style)
    if crlf:
        text = text.replace("\n", "\r\n")
    edit = assignee_edit(text, agent)
    before = read_frontmatter(text, LimitsConfig())
    after = read_frontmatter(edit.text, LimitsConfig())
    assert before is not None and after is not None
    assert after.data["assignee"] == agent
    assert {k: v for k, v in after.data.items() if k != "assignee"} == {
        k: v for k, v in before.data.items() if k != "assignee"
    }
    assert after.body == before.body
    line = "assignee:"
    head, tail = text.split(line, 1)
    new_head, new_tail = edit.text.split(line, 1)
    assert head == new_head
    assert tail.split("\n", 1)[1] == new_tail.split("\n", 1)[1]  # every later line is byte-identical


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no frontmatter\nassignee: x\n", "no YAML frontmatter"),
        ("---\nassignee: x\n", "never closed"),
        ("---\nassignee: x\n--- \n", None),  # a closing fence with trailing blanks
        ("---\nassignee: x\n...\r\nbody\n", None),  # YAML's document end, CRLF
        ("---\n---\nassignee: x\n", None),  # an empty frontmatter: the key after it is body, not a field
    ],
)
def test_write_back_edits_the_frontmatter_the_reader_reads(text: str, reason: str | None) -> None:
    if reason is not None:
        with pytest.raises(WriteBackRefused, match=reason):
            edit_scalar(text, "assignee", "backend-1")
        return
    edited = edit_scalar(text, "assignee", "backend-1", add_missing=True)
    parts = split(edited)
    assert parts is not None
    assert load_yaml(parts[0], LimitsConfig())["assignee"] == "backend-1"
    assert parts[1] == split(text)[1]  # type: ignore[index]  # the body is untouched
