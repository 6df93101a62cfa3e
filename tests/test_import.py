"""`taskdist import`: idempotent, incremental, duplicates with a deterministic winner, projects and refs.

The property test generates small ticket folders in dialects A and B, with duplicated ids and bad
files, imports them twice and checks the second run changes nothing at all. The other tests pin the
incremental rules (a changed file names its changed fields, a deleted file marks its ticket missing)
and the exit codes of the command.
"""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdist.config import Config, EffortConfig, LimitsConfig, SkillsConfig, Source
from taskdist.importer import ImportFailed, ImportReport, import_sources
from taskdist.ledger.db import Ledger, open_ledger
from taskdist.tickets.discover import UNSTATED, Discovery, iter_files
from tests.conftest import NOW, NOW_TEXT, run_cli
from tests.ledger_tools import dump

LATER = NOW + timedelta(days=3)
LIMITS = LimitsConfig()


@contextmanager
def ledger_at(path: Path) -> Iterator[Ledger]:
    ledger = open_ledger(path, create=True)
    try:
        yield ledger
    finally:
        ledger.close()


def do_import(
    db: Path,
    *roots: Path,
    project: str | None = None,
    when: Any = NOW,
    strict: bool = False,
    config: Config | None = None,
) -> ImportReport:
    with ledger_at(db) as ledger:
        sources = [Source(path=str(root), project=project) for root in roots]
        return import_sources(ledger, sources, config or Config(), when, strict=strict)


def events(db: Path) -> list[tuple[str, str | None, dict[str, Any]]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT kind, ticket, data FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(kind, ticket, json.loads(data)) for kind, ticket, data in rows]


def checkpointed_bytes(db: Path) -> bytes:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.read_bytes()


def ticket_row(db: Path, ticket_id: str, project: str = "p") -> dict[str, Any]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM tickets WHERE project = ? AND id = ?", (project, ticket_id)).fetchone()
    finally:
        conn.close()
    assert row is not None, ticket_id
    return dict(row)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def dialect_a(ticket_id: str, *, title: str = "A task", status: str = "open", updated: str | None = None) -> str:
    lines = [f"task_id: {ticket_id}", "issue_id: ISS-0001", f"title: {title}", f"status: {status}"]
    if updated:
        lines.append(f"updated_date: {updated}")
    return "---\n" + "\n".join(lines) + "\n---\n\n# Task\n\n- [ ] step\n"


# --- the property: re-import is idempotent ------------------------------------------------------

IDS = [f"TSK-{n:04d}" for n in range(1, 7)]
FOLDERS = ["tasks/tasks", "tickets/tasks", "tasks-archive/tasks", "backups/2025", "bad", "deep/nested/tasks"]
STATUSES = ["open", "in-progress", "completed", "won't_do", "blocked", "", "ready_for_qa", "✅ Done"]
DATES = ["2025-07-08T07:46:00.000Z", "'2025-07-25T15:03:00.000000'", "2025-07-01", "''", "YYYY-MM-DDTHH:mm:ssZ"]
BAD_FILES = [
    "---\ntask_id: TSK-0099\ntitle: never closed\n",
    "---\ntask_id: TSK-0098\ntitle: 'unterminated\n---\nbody\n",
    "---\n- a list\n- not a mapping\n---\n",
    "# Notes\n\nNo frontmatter and no ticket id here.\n",
    "---\ntitle: no id at all\n---\n",
    "\x00\x01binary",
]
titles = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


@st.composite
def ticket_file(draw: st.DrawFn) -> tuple[str, str]:
    """(relative path, text) of one dialect A or B ticket; ids repeat across files on purpose."""
    ticket_id = draw(st.sampled_from(IDS))
    folder = draw(st.sampled_from(FOLDERS))
    title = json.dumps(draw(titles), ensure_ascii=False)
    status = draw(st.sampled_from(STATUSES))
    date = draw(st.sampled_from(DATES))
    depends = draw(st.lists(st.sampled_from(IDS), max_size=3))
    name = f"{ticket_id}-{draw(st.integers(0, 999))}.md"
    if draw(st.booleans()):
        assignee = draw(st.sampled_from(["masa", "unassigned", "'@alex-dev'", "@alex-dev", "''"]))
        text = (
            f"---\ntask_id: {ticket_id}\nissue_id: ISS-0001\ntitle: {title}\nstatus: {status}\n"
            f"assignee: {assignee}\nupdated_date: {date}\ndependencies: {json.dumps(depends)}\n"
            f"time_estimate: {draw(st.sampled_from(['2 hours', '3h', '30m', '1d', '']))}\n---\n\n# Task\n\n- [x] a\n"
        )
    else:
        text = (
            "---\nactual_hours: null\nassignees: "
            + json.dumps(draw(st.lists(st.sampled_from(["al", "bo"]), max_size=2)))
            + f"\ncreated_at: {date}\ndependencies: {json.dumps(depends)}\ndescription: d\ndue_date: ''\n"
            f"estimated_hours: {draw(st.sampled_from(['null', '2', '7.5']))}\nid: {ticket_id}\nlabels: [python]\n"
            f"metadata:\n  severity: high\n  blocks: {json.dumps(draw(st.lists(st.sampled_from(IDS), max_size=2)))}\n"
            f"parent: ISS-0001\npriority: {draw(st.sampled_from(['low', 'high', 'CRITICAL', '']))}\n"
            f"status: {status}\ntags: []\ntitle: {title}\nupdated_at: {date}\n---\n\nbody\n"
        )
    return f"{folder}/{name}", text


@st.composite
def ticket_folder(draw: st.DrawFn) -> dict[str, str]:
    files = dict(draw(st.lists(ticket_file(), min_size=1, max_size=12)))
    for index, bad in enumerate(draw(st.lists(st.sampled_from(BAD_FILES), max_size=3))):
        files[f"{draw(st.sampled_from(FOLDERS))}/BROKEN-{index}.md"] = bad
    if draw(st.booleans()):
        files["templates/task-template.md"] = "---\ntask_id: TSK-XXXX\ntitle: '{{title}}'\n---\n"
    return files


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ticket_folder())
def test_reimport_is_idempotent(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, db = Path(tmp) / "proj", Path(tmp) / "ledger.db"
        for rel, text in files.items():
            write(root / rel, text)
        first = do_import(db, root)
        assert first.imported == first.tickets > 0
        assert first.updated == 0
        before, before_events, before_bytes = dump(db), events(db), checkpointed_bytes(db)

        second = do_import(db, root, when=LATER)
        assert (second.imported, second.updated, second.unchanged) == (0, 0, first.tickets)
        assert second.files_read == 0  # size and mtime decide: unchanged files are not even opened
        assert (second.errors, second.duplicates, second.skipped) == (first.errors, first.duplicates, first.skipped)
        assert events(db) == before_events
        assert dump(db) == before
        assert checkpointed_bytes(db) == before_bytes

        # Touching every file (same bytes, new mtime) reads them but changes no ticket and adds no event.
        for path in root.rglob("*.md"):
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        third = do_import(db, root, when=LATER)
        assert (third.imported, third.updated, third.files_parsed) == (0, 0, 0)
        assert events(db) == before_events
        assert {k: v for k, v in dump(db).items() if k != "files"} == {k: v for k, v in before.items() if k != "files"}


def test_every_generated_file_is_accounted_for(tmp_path: Path) -> None:
    """Each file is a ticket source, a duplicate, an error or skipped: none silently dropped."""
    root = tmp_path / "proj"
    write(root / "tasks/TSK-0001.md", dialect_a("TSK-0001"))
    write(root / "backups/TSK-0001.md", dialect_a("TSK-0001"))
    write(root / "tasks/BROKEN.md", BAD_FILES[0])
    write(root / "README.md", "# Read me\n")
    write(root / "templates/t.md", "---\ntask_id: TSK-XXXX\n---\n")
    report = do_import(tmp_path / "l.db", root)
    assert report.tickets == 1
    assert [d["dropped"] for d in report.duplicates] == [[str(root / "backups/TSK-0001.md")]]
    assert [e["path"] for e in report.errors] == [str(root / "tasks/BROKEN.md")]
    assert sorted(s["path"] for s in report.skipped) == [str(root / "README.md"), str(root / "templates")]
    assert all(s["reason"] for s in report.skipped)


# --- incremental: changed, bookkeeping-only, deleted ---------------------------------------------


def test_changed_file_updates_its_ticket_naming_exactly_the_changed_fields(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    path = write(root / "TSK-0001.md", dialect_a("TSK-0001", status="open"))
    write(root / "TSK-0002.md", dialect_a("TSK-0002"))
    do_import(db, root)
    write(path, dialect_a("TSK-0001", status="in-progress", title="A renamed task"))

    report = do_import(db, root, when=LATER)
    assert (report.imported, report.updated, report.unchanged, report.files_read) == (0, 1, 1, 1)
    assert ticket_row(db, "TSK-0001")["status"] == "in_progress"
    kind, ticket, data = events(db)[-1]
    assert (kind, ticket) == ("updated", "TSK-0001")
    # Ledger columns: the normalised ones, and the verbatim frontmatter (whose changed keys are listed).
    assert data["fields"] == ["title", "status", "status_raw", "frontmatter"]
    assert data["keys"] == ["status", "title"]
    assert data["changes"]["status"] == ["open", "in_progress"]


def test_a_change_outside_the_normalised_fields_is_named_too(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    path = write(root / "TSK-0001.md", dialect_a("TSK-0001").replace("title:", "sprint: 3\ntitle:"))
    do_import(db, root)
    write(path, dialect_a("TSK-0001").replace("title:", "sprint: 4\ntitle:"))
    do_import(db, root, when=LATER)
    assert (events(db)[-1][2]["fields"], events(db)[-1][2]["keys"]) == (["frontmatter"], ["sprint"])
    write(path, dialect_a("TSK-0001").replace("title:", "sprint: 4\ntitle:") + "- [x] another step\n")
    do_import(db, root, when=LATER)
    assert events(db)[-1][2]["fields"] == ["checklist_done", "checklist_total", "body"]


def test_reformatted_yaml_updates_the_bookkeeping_without_an_event(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    path = write(root / "TSK-0001.md", dialect_a("TSK-0001"))
    do_import(db, root)
    old_hash, old_events = ticket_row(db, "TSK-0001")["content_hash"], events(db)
    write(path, dialect_a("TSK-0001").replace("title: A task", "title: 'A task'   # quoted now"))
    report = do_import(db, root, when=LATER)
    assert (report.updated, report.unchanged) == (0, 1)
    assert events(db) == old_events
    # The stored hash follows the file, so a later write-back does not see a "changed since import".
    assert ticket_row(db, "TSK-0001")["content_hash"] != old_hash


def test_changed_reading_settings_read_every_file_again(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    write(root / "TSK-0001.md", dialect_a("TSK-0001"))  # no estimate: the default applies
    write(root / "TSK-0002.md", dialect_a("TSK-0002").replace("title:", "estimated_hours: 2\ntags: [api]\ntitle:"))
    do_import(db, root)
    assert (ticket_row(db, "TSK-0001")["estimate_hours"], ticket_row(db, "TSK-0002")["skills"]) == (4.0, '["backend"]')

    longer = Config()._replace(effort=EffortConfig(default_hours=6.0))
    report = do_import(db, root, when=LATER, config=longer)
    # Neither file changed, yet both are read: the default estimate is now 6 hours.
    assert (report.files_read, report.files_parsed, report.updated, report.unchanged) == (2, 2, 1, 1)
    assert ticket_row(db, "TSK-0001")["estimate_hours"] == 6.0
    kind, ticket, data = events(db)[-1]
    assert (kind, ticket, data["fields"]) == ("updated", "TSK-0001", ["estimate_hours"])

    before = checkpointed_bytes(db)
    again = do_import(db, root, when=LATER, config=longer)
    assert (again.files_read, again.updated) == (0, 0)
    assert checkpointed_bytes(db) == before  # the same settings again: nothing read, nothing written

    remapped = longer._replace(skills=SkillsConfig(map={"api": ["python"]}))
    report = do_import(db, root, when=LATER, config=remapped)
    assert (report.files_read, report.updated) == (2, 1)
    assert ticket_row(db, "TSK-0002")["skills"] == '["python"]'


def test_reading_settings_text_ignores_key_order_and_tells_values_apart() -> None:
    from taskdist.config import settings_text

    assert settings_text({"b": 1.0, "a": {"y": [2, "x"], "x": None}}) == settings_text(
        {"a": {"x": None, "y": [2, "x"]}, "b": 1.0}
    )
    assert (
        len({settings_text(v) for v in ({"a": 1}, {"a": 1.0}, {"a": "1"}, {"a": True}, {"a": [1]}, {"a": None})}) == 6
    )
    assert Config().reader_settings() != Config()._replace(limits=LimitsConfig(max_files=10)).reader_settings()


def test_a_ledger_that_recorded_its_settings_as_json_is_migrated_and_reads_nothing_again(tmp_path: Path) -> None:
    # Migration 0007: before it, each project's reading settings were recorded as sorted JSON.
    from taskdist.ledger.db import MIGRATIONS

    root, db = tmp_path / "p", tmp_path / "l.db"
    write(root / "TSK-0001.md", dialect_a("TSK-0001"))
    do_import(db, root)
    conn = sqlite3.connect(db)
    try:
        (text,) = conn.execute("SELECT reader_settings FROM projects").fetchone()
        assert text == Config().reader_settings()
        as_json = json.dumps(ast.literal_eval(text), sort_keys=True)  # the text is a repr of plain data
        with conn:
            conn.execute("UPDATE projects SET reader_settings = ?", (as_json,))
            conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (MIGRATIONS[-1],))
    finally:
        conn.close()
    with ledger_at(db) as ledger:  # opening applies the migration again
        (migrated,) = ledger.conn.execute("SELECT reader_settings FROM projects").fetchone()
    assert migrated == text
    again = do_import(db, root, when=LATER)
    assert (again.files_read, again.updated, again.unchanged) == (0, 0, 1)


def test_two_folders_of_one_project_are_read_again_together_and_left_alone_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `import one/tickets two/tickets`: both folders are the project "tickets".
    one, two, db = tmp_path / "one/tickets", tmp_path / "two/tickets", tmp_path / "l.db"
    write(one / "TSK-0001.md", dialect_a("TSK-0001"))
    write(two / "TSK-0002.md", dialect_a("TSK-0002"))
    write(two / "bad.md", BAD_FILES[1])
    first = do_import(db, one, two)
    assert (first.imported, first.tickets, [e["path"] for e in first.errors]) == (2, 2, [str(two / "bad.md")])
    before = checkpointed_bytes(db)
    again = do_import(db, one, two, when=LATER)
    # The project's counts and problems once, not once per folder.
    assert (again.files_read, again.updated, again.unchanged, again.tickets, len(again.errors)) == (0, 0, 2, 2, 1)
    assert checkpointed_bytes(db) == before  # nothing changed: nothing written, not even the project's folder

    # The same folder named twice (by its absolute and its relative path) is read once.
    monkeypatch.chdir(tmp_path)
    twice = do_import(tmp_path / "twice.db", one, Path("one/tickets"))
    assert (twice.files_read, twice.imported, len(twice.errors)) == (1, 1, 0)

    longer = Config()._replace(effort=EffortConfig(default_hours=6.0))
    report = do_import(db, one, two, when=LATER, config=longer)
    # The settings changed for the project: the files of both folders are read again, not only the first's.
    assert (report.files_read, report.updated) == (3, 2)
    assert [ticket_row(db, t, "tickets")["estimate_hours"] for t in ("TSK-0001", "TSK-0002")] == [6.0, 6.0]


def test_deleted_file_marks_its_ticket_missing_and_never_deletes_it(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    path = write(root / "TSK-0001.md", dialect_a("TSK-0001"))
    write(root / "TSK-0002.md", dialect_a("TSK-0002"))
    do_import(db, root)
    path.unlink()

    report = do_import(db, root, when=LATER)
    assert (report.missing, report.tickets) == (1, 2)
    row = ticket_row(db, "TSK-0001")
    assert (row["missing"], row["title"]) == (1, "A task")
    assert events(db)[-1][:2] == ("missing", "TSK-0001")
    again = do_import(db, root, when=LATER)
    assert (again.missing, len(events(db))) == (0, 3)  # 2 imported, 1 missing, no repeat

    write(path, dialect_a("TSK-0001"))
    back = do_import(db, root, when=LATER)
    assert back.updated == 1
    assert ticket_row(db, "TSK-0001")["missing"] == 0
    assert events(db)[-1][:2] == ("restored", "TSK-0001")


def test_unreadable_file_keeps_the_last_good_version_flagged(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    path = write(root / "TSK-0001.md", dialect_a("TSK-0001", title="Good"))
    write(root / "TSK-0002.md", dialect_a("TSK-0002"))
    do_import(db, root)
    write(path, "---\ntask_id: TSK-0001\ntitle: 'broken\n---\n")
    report = do_import(db, root, when=LATER)
    assert [e["path"] for e in report.errors] == [str(path)]
    row = ticket_row(db, "TSK-0001")
    assert row["title"] == "Good"
    assert "invalid YAML" in row["read_error"]


def test_importing_another_folder_under_the_same_project_name_marks_nothing_missing(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    write(tmp_path / "a/tasks/TSK-0001.md", dialect_a("TSK-0001"))
    write(tmp_path / "b/tasks/TSK-0002.md", dialect_a("TSK-0002"))
    do_import(db, tmp_path / "a/tasks")
    report = do_import(db, tmp_path / "b/tasks")
    assert (report.projects, report.missing, report.tickets) == (["tasks"], 0, 2)
    assert ticket_row(db, "TSK-0001", "tasks")["missing"] == 0


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_winner_not_archived_then_latest_update_then_path(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    # TSK-0001: the archived copy is newer, the live one still wins.
    write(root / "tasks/TSK-0001.md", dialect_a("TSK-0001", title="live", updated="2025-01-01"))
    write(root / "tasks-archive/TSK-0001.md", dialect_a("TSK-0001", title="archived", updated="2025-06-01"))
    write(root / "backup/TSK-0001.md", dialect_a("TSK-0001", title="backup", updated="2025-06-02"))
    write(root / "bad/TSK-0001.md", dialect_a("TSK-0001", title="bad", updated="2025-06-03"))
    # TSK-0002: both live, the later update wins; one without a date loses to both.
    write(root / "tasks/TSK-0002.md", dialect_a("TSK-0002", title="older", updated="2025-01-01"))
    write(root / "tickets/TSK-0002.md", dialect_a("TSK-0002", title="newer", updated="2025-02-01T10:00:00Z"))
    write(root / "zzz/TSK-0002.md", dialect_a("TSK-0002", title="undated"))
    # TSK-0003: same update time, the path decides.
    write(root / "tickets/TSK-0003.md", dialect_a("TSK-0003", title="second path", updated="2025-01-01"))
    write(root / "tasks/TSK-0003.md", dialect_a("TSK-0003", title="first path", updated="2025-01-01"))

    report = do_import(db, root)
    assert report.tickets == 3
    titles = {tid: ticket_row(db, tid)["title"] for tid in ("TSK-0001", "TSK-0002", "TSK-0003")}
    assert titles == {"TSK-0001": "live", "TSK-0002": "newer", "TSK-0003": "first path"}
    dups = {d["id"]: d for d in report.duplicates}
    assert dups["TSK-0001"]["kept"] == str(root / "tasks/TSK-0001.md")
    assert sorted(dups["TSK-0001"]["dropped"]) == sorted(
        str(root / p) for p in ("tasks-archive/TSK-0001.md", "backup/TSK-0001.md", "bad/TSK-0001.md")
    )
    assert dups["TSK-0002"]["dropped"] == [str(root / "tasks/TSK-0002.md"), str(root / "zzz/TSK-0002.md")]
    assert dups["TSK-0003"]["dropped"] == [str(root / "tickets/TSK-0003.md")]
    assert {d["reason"] for d in report.duplicates} == {
        "not in an archive/backup folder",
        "latest update",
        "first path",
    }
    # One `imported` event per ticket, naming the file that won (not the first one read).
    conn = sqlite3.connect(db)
    events = conn.execute("SELECT ticket, data FROM events WHERE kind = 'imported' ORDER BY id").fetchall()
    conn.close()
    assert [(t, json.loads(d)["path"]) for t, d in events] == [
        ("TSK-0001", str(root / "tasks/TSK-0001.md")),
        ("TSK-0002", str(root / "tickets/TSK-0002.md")),
        ("TSK-0003", str(root / "tasks/TSK-0003.md")),
    ]


@pytest.mark.parametrize("odd_folder", [None, "é", 'say "hi"', "back\\slash"])
def test_imported_events_are_the_same_whether_logged_one_by_one_or_at_once(
    tmp_path: Path, odd_folder: str | None
) -> None:
    """A project's first import logs its `imported` events in one statement, later imports one by one:
    the same rows either way, whatever the paths hold."""
    root, db = tmp_path / "p", tmp_path / "l.db"
    for n in (3, 1, 2):
        write(root / f"tasks/TSK-{n}.md", dialect_a(f"TSK-{n}"))
    if odd_folder:
        write(root / odd_folder / "TSK-4.md", dialect_a("TSK-4"))
    do_import(db, root)
    write(root / "tasks/TSK-5.md", dialect_a("TSK-5"))
    do_import(db, root)  # a later import: one by one
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT ticket, data FROM events WHERE kind = 'imported' ORDER BY id").fetchall()
    paths = dict(conn.execute("SELECT id, path FROM tickets"))
    conn.close()
    ids = ["TSK-1", "TSK-2", "TSK-3", *(["TSK-4"] if odd_folder else []), "TSK-5"]
    assert rows == [(i, json.dumps({"path": paths[i]}, sort_keys=True)) for i in ids]


def _rivals(root: Path) -> Path:
    """A folder where two files hold TSK-0001 (the later update wins) and one file is unreadable."""
    write(root / "a/TSK-0001.md", dialect_a("TSK-0001", title="old", updated="2025-01-01"))
    write(root / "b/TSK-0001.md", dialect_a("TSK-0001", title="new", updated="2025-03-01"))
    write(root / "bad.md", BAD_FILES[1])
    return root


def test_file_states_saved_during_the_read_end_as_if_saved_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # States are saved in batches while files are read, then again where they changed afterwards
    # (a later file beats an earlier one for its id). With a batch of one file, every state takes
    # that path; the ledger must be exactly what one save at the end gives.
    from taskdist import importer

    root = _rivals(tmp_path / "p")
    write(root / "backup/TSK-0002.md", dialect_a("TSK-0002", title="backup"))
    write(root / "c/TSK-0002.md", dialect_a("TSK-0002", title="live"))
    write(root / "TSK-0003.md", dialect_a("TSK-0003"))

    def settle(stamp: int) -> None:  # the same mtimes in both runs, so the ledgers can be compared
        for path in root.rglob("*.md"):
            os.utime(path, ns=(stamp, stamp))

    dumps = []
    for batch in (1, 10_000):
        monkeypatch.setattr(importer._StateSaver, "BATCH", batch)
        db = tmp_path / f"l{batch}.db"
        settle(10**18)
        do_import(db, root)
        first = dump(db)
        (root / "a/TSK-0001.md").write_text(dialect_a("TSK-0001", title="newest", updated="2025-06-01"))
        settle(2 * 10**18)
        do_import(db, root, when=LATER)
        dumps.append((first, dump(db)))
        write(root / "a/TSK-0001.md", dialect_a("TSK-0001", title="old", updated="2025-01-01"))
    assert dumps[0] == dumps[1]
    assert {r[1] for r in dumps[0][1]["tickets"]} == {"TSK-0001", "TSK-0002", "TSK-0003"}


def test_a_first_import_walks_without_stat_and_records_what_a_stat_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Into a project the ledger has never read, the walk yields files unstated and each reader takes
    # size and mtime from its open file. The ledger must be exactly what a stat-first walk gives.
    from taskdist import importer

    root = _rivals(tmp_path / "p")
    write(root / "TSK-0002.md", dialect_a("TSK-0002"))
    os.mkfifo(root / "pipe.md")  # known as no regular file from its entry: stat-ed and reported
    for number, path in enumerate(sorted(root.rglob("*.md"))):
        if path.is_file():
            os.utime(path, ns=(10**18 + number, 10**18 + number))
    # The walk itself: regular files unstated, the pipe stat-ed (and reported, not yielded).
    found = Discovery()
    unstated = {f.rel_path: (f.size, f.mtime_ns) for f in iter_files(root, LIMITS, found, stat_files=False)}
    assert set(unstated.values()) == {(UNSTATED, UNSTATED)} and "pipe.md" not in unstated and len(unstated) == 4
    assert [Path(p).name for p, _ in found.problems] == ["pipe.md"]
    walked: list[bool] = []
    real_walk = iter_files

    def walk(*args: Any, stat_files: bool = True) -> Any:
        walked.append(stat_files)
        return real_walk(*args, stat_files=stat_files if forced is None else forced)

    monkeypatch.setattr(importer, "iter_files", walk)
    dumps = []
    for forced in (None, True):
        db = tmp_path / f"l{forced}.db"
        report = do_import(db, root)
        reasons = {Path(e["path"]).name: e["reason"] for e in report.errors}
        assert sorted(reasons) == ["bad.md", "pipe.md"] and "named pipe" in reasons["pipe.md"]
        dumps.append(dump(db))
    assert walked == [False, False]  # both were first imports; the second run forced the stat
    assert dumps[0] == dumps[1]
    conn = sqlite3.connect(tmp_path / "lNone.db")
    try:
        recorded = {p: (s, m) for p, s, m in conn.execute("SELECT path, size, mtime_ns FROM files")}
    finally:
        conn.close()
    for name in ("a/TSK-0001.md", "b/TSK-0001.md", "TSK-0002.md", "bad.md"):
        info = (root / name).stat()
        assert recorded[str(root / name)] == (info.st_size, info.st_mtime_ns)
    # The next import of the project stats every file and reads none of them again.
    with ledger_at(tmp_path / "lNone.db") as ledger:
        again = import_sources(ledger, [Source(path=str(root))], Config(), LATER)
    assert walked[-1] is True and again.files_read == 0


def _index_sql(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        )
        return rows.fetchall()
    finally:
        conn.close()


def test_a_first_import_builds_the_indexes_it_deferred_exactly_as_they_were(tmp_path: Path) -> None:
    # Into an empty ledger the secondary indexes are dropped for the bulk insert and built at the end.
    fresh, db = tmp_path / "fresh.db", tmp_path / "l.db"
    ledger_at(fresh).__enter__().close()
    expected = _index_sql(fresh)
    assert {"tickets_status", "files_project", "events_kind"} <= {name for name, _ in expected}
    root = tmp_path / "p"
    write(root / "TSK-0001.md", dialect_a("TSK-0001"))
    write(root / "TSK-0002.md", dialect_a("TSK-0002", status="in-progress"))
    do_import(db, root)
    assert _index_sql(db) == expected
    # The indexes serve queries again, and a failed import into an empty ledger rolls the drop back.
    conn = sqlite3.connect(db)
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE status = 'open'").fetchall()
    finally:
        conn.close()
    assert "tickets_status" in str(plan)
    empty_db, nothing = tmp_path / "empty.db", tmp_path / "nothing"
    write(nothing / "bad.md", BAD_FILES[0])
    with pytest.raises(ImportFailed):
        do_import(empty_db, nothing)
    assert _index_sql(empty_db) == expected


def test_duplicate_winner_does_not_depend_on_import_history(tmp_path: Path) -> None:
    """Files arriving one by one end with the same winner and report as a fresh import of them all."""
    texts = {rel: dialect_a("TSK-0001", title=rel, updated="2025-01-01") for rel in ("c/T.md", "b/T.md", "a/T.md")}
    root, db = tmp_path / "one-by-one", tmp_path / "l1.db"
    for rel, text in texts.items():
        write(root / rel, text)
        step = do_import(db, root)
    fresh_root = tmp_path / "all-at-once"
    for rel, text in texts.items():
        write(fresh_root / rel, text)
    fresh = do_import(tmp_path / "l2.db", fresh_root)
    assert ticket_row(db, "TSK-0001", "one-by-one")["title"] == "a/T.md"
    assert ticket_row(tmp_path / "l2.db", "TSK-0001", "all-at-once")["title"] == "a/T.md"
    assert [d["dropped"] for d in step.duplicates] == [[str(root / "b/T.md"), str(root / "c/T.md")]]
    assert [d["dropped"] for d in fresh.duplicates] == [[str(fresh_root / "b/T.md"), str(fresh_root / "c/T.md")]]


def test_removing_the_winner_promotes_the_next_duplicate(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    live = write(root / "tasks/TSK-0001.md", dialect_a("TSK-0001", title="live"))
    write(root / "archive/TSK-0001.md", dialect_a("TSK-0001", title="archived"))
    do_import(db, root)
    live.unlink()
    report = do_import(db, root, when=LATER)
    assert (report.updated, report.missing, report.duplicates) == (1, 0, [])
    row = ticket_row(db, "TSK-0001")
    assert (row["title"], row["missing"], row["path"]) == ("archived", 0, str(root / "archive/TSK-0001.md"))


# --- the project marker -------------------------------------------------------------------------


def test_ai_trackdown_marker_prefixes_are_honoured(tmp_path: Path) -> None:
    root, db = tmp_path / "repo", tmp_path / "l.db"
    write(
        root / ".ai-trackdown/config.yaml",
        "name: x\nnaming_conventions:\n  epic_prefix: INIT\n  issue_prefix: STORY\n  task_prefix: JOB\n",
    )
    for ticket_id in ("INIT-1", "STORY-2", "JOB-3"):
        write(root / f"tickets/{ticket_id}.md", f"---\nid: {ticket_id}\ntitle: t\nstatus: open\n---\n")
    do_import(db, root)
    kinds = {tid: ticket_row(db, tid, "repo")["kind"] for tid in ("INIT-1", "STORY-2", "JOB-3")}
    assert kinds == {"INIT-1": "epic", "STORY-2": "issue", "JOB-3": "task"}


def test_the_marker_beside_the_tickets_folder_counts_when_importing_it_as_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `tasks_directory` puts the tickets in a subfolder with the marker in its parent: `cd tickets;
    # taskdist import .` must find it there (the parent of "." is the real parent, not "." again).
    root = tmp_path / "repo"
    write(root / ".ai-trackdown/config.yaml", "naming_conventions:\n  issue_prefix: STORY\n")
    write(root / "tickets/STORY-2.md", "---\nid: STORY-2\ntitle: t\nstatus: open\n---\n")
    monkeypatch.chdir(root / "tickets")
    do_import(tmp_path / "l.db", Path("."))
    assert ticket_row(tmp_path / "l.db", "STORY-2", "tickets")["kind"] == "issue"


def test_broken_marker_is_a_warning_not_an_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root / ".ai-trackdown/config.yaml", "naming_conventions: [unclosed\n")
    write(root / "tasks/TSK-1.md", dialect_a("TSK-1"))
    report = do_import(tmp_path / "l.db", root)
    assert report.tickets == 1 and report.errors == []
    assert [w["path"] for w in report.warnings] == [str(root / ".ai-trackdown/config.yaml")]


# --- failing imports ----------------------------------------------------------------------------


def test_nothing_readable_raises_with_the_report_and_writes_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    write(root / "a.md", BAD_FILES[0])
    write(root / "README.md", "# docs\n")
    with pytest.raises(ImportFailed) as failed:
        do_import(db, root)
    assert failed.value.exit_code != 0
    assert [e["path"] for e in failed.value.report.errors] == [str(root / "a.md")]
    assert failed.value.report.skipped[0]["path"] == str(root / "README.md")
    assert dump(db)["tickets"] == [] and dump(db)["runs"] == []


def test_strict_fails_on_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    write(root / "TSK-1.md", dialect_a("TSK-1"))
    do_import(db, root)
    before = dump(db)
    write(root / "TSK-2.md", dialect_a("TSK-2"))
    write(root / "bad.md", BAD_FILES[1])
    with pytest.raises(ImportFailed, match="--strict"):
        do_import(db, root, strict=True)
    assert dump(db) == before


# --- through the command line -------------------------------------------------------------------


def test_cli_exit_codes_for_bad_files_strict_and_nothing_readable(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "TSK-1.md", dialect_a("TSK-1"))
    write(root / "bad.md", BAD_FILES[1])
    db = str(tmp_path / "l.db")
    ok = run_cli("import", str(root), "--db", db, "--now", NOW_TEXT, "--format", "json", cwd=tmp_path)
    assert ok.exit_code == 0, ok.stderr
    report = json.loads(ok.stdout)
    # Paths under the current folder are shown relative to it; the line is where the open quote starts.
    assert [(e["path"], e["line"]) for e in report["errors"]] == [("p/bad.md", 3)]

    strict = run_cli("import", str(root), "--db", db, "--now", NOW_TEXT, "--strict", cwd=tmp_path)
    assert strict.exit_code == 65
    assert strict.stderr.splitlines()[-1] == (
        "Error: --strict: 1 files could not be read; nothing was written. Fix them or run without --strict"
    )
    assert "p/bad.md" in strict.stdout  # the report still says which file

    empty = tmp_path / "nothing"
    write(empty / "bad.md", BAD_FILES[0])
    failed = run_cli("import", str(empty), "--db", db, "--now", NOW_TEXT, "--format", "json", cwd=tmp_path)
    assert failed.exit_code == 65
    assert failed.stderr.startswith("Error: no ticket could be read from ")
    assert json.loads(failed.stdout)["errors"][0]["path"] == "nothing/bad.md"
    assert Path(db).exists()  # a ledger that had been written to stays


def test_a_first_import_that_fails_leaves_no_ledger_behind(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "TSK-1.md", dialect_a("TSK-1"))
    write(root / "bad.md", BAD_FILES[1])
    for args in (["--strict"], []):
        folder = root if args else tmp_path / "nothing"
        write(tmp_path / "nothing" / "bad.md", BAD_FILES[0])
        result = run_cli("import", str(folder), *args, "--now", NOW_TEXT, cwd=tmp_path)
        assert result.exit_code == 65, result.stderr
        assert not (tmp_path / ".taskdist").exists(), args
        # The next command says there is no ledger, not "no tickets".
        listed = run_cli("tickets", cwd=tmp_path)
        assert listed.exit_code != 0 and "no ledger" in listed.stderr
    kept = tmp_path / "kept"
    kept.mkdir()
    run_cli("import", str(root), "--strict", "--db", str(kept / "l.db"), "--now", NOW_TEXT, cwd=tmp_path)
    assert kept.is_dir() and not (kept / "l.db").exists()  # a folder that was there before stays


def test_cli_project_names_and_ticket_references(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    write(tmp_path / "alpha/TSK-0001.md", dialect_a("TSK-0001", title="alpha one"))
    write(tmp_path / "alpha/TSK-0002.md", dialect_a("TSK-0002", title="alpha two"))
    write(tmp_path / "beta/TSK-0001.md", dialect_a("TSK-0001", title="beta one"))
    assert run_cli("import", "alpha", "--db", db, "--now", NOW_TEXT, cwd=tmp_path).exit_code == 0
    named = run_cli("import", "beta", "--project", "gamma", "--db", db, "--now", NOW_TEXT, cwd=tmp_path)
    assert named.exit_code == 0, named.stderr

    listed = json.loads(run_cli("tickets", "--db", db, "--format", "json", cwd=tmp_path).stdout)
    assert sorted((t["project"], t["id"]) for t in listed) == [
        ("alpha", "TSK-0001"),
        ("alpha", "TSK-0002"),
        ("gamma", "TSK-0001"),
    ]

    def title(*args: str) -> str:
        result = run_cli("show", *args, "--db", db, "--format", "json", cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        return str(json.loads(result.stdout)["title"])

    assert title("TSK-0002") == "alpha two"  # unique across projects
    assert title("alpha:TSK-0001") == "alpha one"
    assert title("gamma:TSK-0001") == "beta one"
    assert title("TSK-0001", "--project", "gamma") == "beta one"
    ambiguous = run_cli("show", "TSK-0001", "--db", db, cwd=tmp_path)
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr == (
        "Error: 'TSK-0001' exists in 2 projects (alpha:TSK-0001, gamma:TSK-0001); say PROJECT:ID or use --project\n"
    )
