"""Start-up cost: what each command imports, the ledger's lazy sqlite-utils wrapping, one-command apps.

Timings are checked by `make bench`; these tests pin the structure that keeps start-up short.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from hypothesis import given
from hypothesis import strategies as st
from typer.core import TyperCommand, TyperGroup

from taskdist.cli.commands import app, app_for
from taskdist.ledger import db as ledger_db
from taskdist.ledger.db import MIGRATION_SET, MIGRATIONS, open_ledger
from tests.conftest import NOW, NOW_TEXT, ROOT, SAMPLE, probe_modules, run_cli

WATCHED = ("numpy", "scipy", "sqlite_utils", "pydantic")


def _imported(cwd: Path, *args: str) -> tuple[int, set[str]]:
    """Run `taskdist ARGS` in a fresh interpreter: its exit code and which WATCHED modules it loaded."""
    code, loaded, _ = probe_modules(*args, watched=WATCHED, cwd=cwd)
    return code, loaded


@pytest.fixture(scope="module")
def sample_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    db = folder / "ledger.db"
    roster = str(SAMPLE / "roster.yaml")
    result = run_cli("import", str(SAMPLE), "--roster", roster, "--db", str(db), "--now", NOW_TEXT, "-q")
    assert result.exit_code == 0, result.stderr
    return db


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml")], set()),
        (["tickets"], set()),
        (["show", "TSK-0106"], set()),
        (["agents"], set()),
        (["queue", "--format", "json"], {"numpy"}),
    ],
)
def test_commands_that_change_nothing_never_load_sqlite_utils(
    sample_ledger: Path, args: list[str], allowed: set[str]
) -> None:
    code, loaded = _imported(ROOT, *args, "--db", str(sample_ledger), "--now", NOW_TEXT)
    assert code == 0
    assert loaded <= allowed, f"`taskdist {args[0]}` loaded {sorted(loaded - allowed)}"


def test_a_command_that_writes_does_load_sqlite_utils(tmp_path: Path) -> None:
    # The probe's positive control: creating a ledger migrates it, which needs sqlite-utils.
    code, loaded = _imported(ROOT, "import", str(SAMPLE), "--db", str(tmp_path / "new.db"), "--now", NOW_TEXT)
    assert code == 0
    # ...and imports it without numpy, which sqlite-utils would load for `table.insert()` alone.
    assert loaded == {"sqlite_utils"}


def test_sqlite_utils_imported_without_numpy_leaves_numpy_importable() -> None:
    code = (
        "import sys; from taskdist.ledger.db import _sqlite_utils_database as load; load()\n"
        "import sqlite_utils.db; assert sqlite_utils.db.np is None and 'numpy' not in sys.modules\n"
        "import numpy; print(numpy.zeros(2).sum())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "0.0\n"), proc.stderr


def test_migration_names_constant_is_what_the_migrations_apply() -> None:
    from sqlite_utils import Database

    from taskdist.ledger.schema import migrations

    assert migrations.name == MIGRATION_SET
    assert tuple(m.name for m in migrations.pending(Database(memory=True))) == MIGRATIONS


def test_pending_migrations_are_seen_without_sqlite_utils(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    open_ledger(path, create=True).close()
    conn = sqlite3.connect(path)
    try:
        assert not ledger_db._migrations_pending(conn)
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (MIGRATIONS[-1],))
        assert ledger_db._migrations_pending(conn)
    finally:
        conn.close()
    assert ledger_db._migrations_pending(sqlite3.connect(":memory:"))


def _traced(path: Path) -> tuple[ledger_db.Ledger, list[str]]:
    ledger = open_ledger(path, create=True)
    ledger.close()
    ledger = open_ledger(path)  # an up-to-date ledger: nothing migrated, nothing wrapped yet
    statements: list[str] = []
    ledger.conn.set_trace_callback(lambda sql: statements.append(sql.split()[0].upper()))
    return ledger, statements


def test_a_transaction_that_only_reads_stays_on_the_plain_connection(tmp_path: Path) -> None:
    ledger, statements = _traced(tmp_path / "ledger.db")
    with ledger.writing("test", NOW):
        ledger.conn.execute("SELECT count(*) FROM tickets").fetchone()
    ledger.close()
    assert ledger._db is None
    assert "SAVEPOINT" not in statements
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"


def test_every_write_runs_inside_db_atomic(tmp_path: Path) -> None:
    ledger, statements = _traced(tmp_path / "ledger.db")
    with ledger.writing("test", NOW):
        ledger.conn.execute("SELECT count(*) FROM runs").fetchone()
        ledger.add_event(NOW, "test_event")
    ledger.close()
    assert ledger._db is not None
    # BEGIN, the lock-taking UPDATE and the read; sqlite-utils' savepoint opens before the first write.
    assert statements[:3] == ["BEGIN", "UPDATE", "SELECT"]
    assert "SAVEPOINT" in statements[3 : statements.index("INSERT")]
    assert statements[-2:] == ["RELEASE", "COMMIT"]


def test_a_failure_after_writes_rolls_all_of_them_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = open_ledger(path, create=True)
    with pytest.raises(RuntimeError), ledger.writing("test", NOW):
        ledger.add_event(NOW, "first")
        ledger.add_event(NOW, "second")
        raise RuntimeError("boom")
    with ledger.writing("test", NOW, dry_run=True):
        ledger.add_event(NOW, "dry")
        assert ledger.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    ledger.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT 1", True),
        ("  select * FROM tickets", True),
        ("PRAGMA user_version", True),
        ("PRAGMA table_info(tickets)", False),  # the argument form may set a value: counted as a write
        ("PRAGMA user_version = 3", False),
        ("INSERT INTO runs DEFAULT VALUES", False),
        ("UPDATE tickets SET title = ''", False),
        ("DELETE FROM files", False),
        ("REPLACE INTO projects VALUES (1, 2, 3)", False),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", False),
        ("CREATE TABLE t (a)", False),
        ("SELECTED", False),  # a whole word only
        ("SELECT_x", False),
        ("select(1)", True),
        ("EXPLAIN QUERY PLAN DELETE FROM files", True),  # explains it, does not run it
        ("VALUES (1)", True),
        ("\n\tPRAGMA main.page_size ; \n", True),
        ("PRAGMA page_size;;", False),
        ("PRAGMA ;", False),
        ("PRAGMA", False),
        ("PRAGMAuser_version", False),
        ("PRAGMA a b", False),
        ("", False),
    ],
)
def test_statements_that_may_write_are_recognised(sql: str, reads: bool) -> None:
    assert ledger_db.read_only(sql) is reads


# What `read_only` replaced (string methods now: a re-import must not load `re`), as the reference.
_READ_ONLY_PATTERN = re.compile(r"\s*(?:SELECT|VALUES|EXPLAIN)\b|\s*PRAGMA\s+[\w.]+\s*;?\s*$", re.IGNORECASE)
_SQL_WORDS = st.sampled_from(["SELECT", "select", "VALUES", "Explain", "PRAGMA", "pragma", "user_version", "main."])


@given(
    st.lists(st.one_of(_SQL_WORDS, st.sampled_from([" ", "\t", "\n", ";", "(", "1", "x", "_", "=", "."])), max_size=8)
)
def test_read_only_reads_statements_as_the_regular_expression_did(pieces: list[str]) -> None:
    sql = "".join(pieces)
    assert ledger_db.read_only(sql) is bool(_READ_ONLY_PATTERN.match(sql)), sql


def test_a_one_command_app_builds_that_command_exactly_as_the_whole_app() -> None:
    def shape(command: TyperCommand) -> list[tuple[object, ...]]:
        return [(p.name, tuple(p.opts), getattr(p, "help", None), p.default, p.required) for p in command.params]

    whole = typer.main.get_command(app)
    assert isinstance(whole, TyperGroup)
    for info in app.registered_commands:
        assert info.name is not None
        single = typer.main.get_command(app_for([info.name, "--help"]))
        assert isinstance(single, TyperGroup)
        assert list(single.commands) == [info.name]
        built, reference = single.commands[info.name], whole.commands[info.name]
        assert isinstance(built, TyperCommand) and isinstance(reference, TyperCommand)
        assert built.help == reference.help
        assert shape(built) == shape(reference)
    for args in ([], ["--help"], ["-h", "queue"], ["no-such-command"]):
        assert app_for(args) is app


def test_migration_0006_makes_the_keep_triggers_rewrite_triggers(tmp_path: Path) -> None:
    # Migration 0006: a ticket new to the ledger is a plain insert (no trigger); an import rewriting
    # a known ticket updates `imported_at`, which fires them (their effect is tested in
    # test_status_cli and test_assignment_cli).
    path = tmp_path / "ledger.db"
    open_ledger(path, create=True).close()
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets'")
        triggers = dict(rows.fetchall())
    finally:
        conn.close()
    assert sorted(triggers) == ["tickets_keep_assignment", "tickets_keep_outcome"]
    assert all("AFTER UPDATE OF imported_at ON tickets" in sql for sql in triggers.values())
