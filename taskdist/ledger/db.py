"""Opening the ledger, the write lock, and the one transaction every writing command runs in.

Concurrency model: WAL, so readers never wait for a writer. A writing command calls
`Ledger.writing()`, which opens a transaction and takes SQLite's write lock *before* reading any
state (a no-op UPDATE acquires it), waiting at most `lock_timeout_seconds` for another writer; after
that it raises `LedgerBusy` (exit code 75). Everything the command writes commits at once or not at
all, so a process killed at any instant leaves the ledger as before or as after, never between.

Start-up cost: importing sqlite-utils costs about as much as a whole no-change command (it pulls
in click, pluggy and dateutil, and numpy unless kept out: see `_sqlite_utils_database`), so the
ledger runs on the plain sqlite3 connection and wraps it
in a sqlite-utils `Database` only when something is written or migrated: the first statement inside
`writing()` that may write enters `db.atomic()`, and every later write of the command runs inside
it. Reads, and a command that finds nothing to change, never import sqlite-utils.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskdist.errors import LedgerBusy, LedgerNotFound, TaskdistError
from taskdist.timestamps import format_datetime

if TYPE_CHECKING:
    from sqlite_utils import Database

# The migration set of taskdist/ledger/schema.py and its migrations' names, in order. Kept here so
# that "is the schema up to date?" is one query, without importing sqlite-utils; a test checks that
# this equals the names the `Migrations` object applies. Append a new migration's name here too.
MIGRATION_SET = "taskdist"
MIGRATIONS = ("0001_initial", "0003_assignments", "0004_status", "0005_reader_settings", "0006_keep_on_rewrite")

# Statements that cannot write. Anything else (even a harmless WITH ... SELECT, or `PRAGMA x(1)`,
# which may set x) counts as a write, which at worst wraps a read in `db.atomic()`.
_READ_ONLY = re.compile(r"\s*(?:SELECT|VALUES|EXPLAIN)\b|\s*PRAGMA\s+[\w.]+\s*;?\s*$", re.IGNORECASE)


class LedgerConnection(sqlite3.Connection):
    """The ledger's sqlite3 connection: calls `before_write` (once) ahead of the first statement that may write.

    Only the connection's own execute methods are watched: write through them, not through `cursor()`.
    """

    before_write: Callable[[], None] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.before_write is not None and not _READ_ONLY.match(sql):
            self._fire()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        if self.before_write is not None and not _READ_ONLY.match(sql):
            self._fire()
        return super().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        if self.before_write is not None:
            self._fire()
        return super().executescript(sql_script)

    def _fire(self) -> None:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            hook()


class Ledger:
    """An open ledger: its connection and the run the current command writes under."""

    def __init__(self, conn: LedgerConnection, path: Path, lock_timeout: float) -> None:
        self.conn = conn
        self.path = path
        self.lock_timeout = lock_timeout
        self.run_id: int | None = None
        self._depth = 0
        self._db: Database | None = None
        self._pending_run: tuple[str, str | None, str | Callable[[], str] | None] = ("", None, None)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    @property
    def db(self) -> Database:
        """The connection as a sqlite-utils `Database` (imports sqlite-utils on first use)."""
        if self._db is None:
            # No plugins: taskdist uses none, and scanning every installed package for them costs
            # tens of milliseconds per writing command.
            self._db = _sqlite_utils_database()(self.conn, execute_plugins=False)
        return self._db

    @contextmanager
    def writing(
        self,
        command: str,
        now: datetime,
        config_hash: str | Callable[[], str] | None = None,
        *,
        dry_run: bool = False,
    ) -> Iterator[Ledger]:
        """One atomic write transaction, holding the write lock from its first statement.

        `config_hash` may be given as a function (`config.digest`): it is called only if a run row
        is written, so a command that changes nothing does not hash its configuration.

        A run row is added lazily (`ensure_run`) by the first real change, so a command that finds
        nothing to do leaves the ledger byte-for-byte unchanged. With `dry_run` everything is computed
        and written inside the transaction exactly as for real, then rolled back: what a dry run
        prints is what the real run writes. Nested calls (rebalance runs the import inside its own
        transaction) join the outer transaction and run.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._pending_run = (command, format_datetime(now), config_hash)
        self._depth = 1
        try:
            with self._locked_transaction():
                try:
                    yield self
                    if self.run_id is not None:
                        self.conn.execute(
                            "UPDATE runs SET finished_at = ? WHERE id = ?", (format_datetime(now), self.run_id)
                        )
                    if dry_run:
                        raise _DryRun
                finally:
                    self.run_id = None
        except _DryRun:
            pass
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _busy(self.lock_timeout) from exc
            raise TaskdistError(f"the ledger at {self.path} could not be written: {exc}") from exc
        finally:
            self._depth = 0

    @contextmanager
    def _locked_transaction(self) -> Iterator[None]:
        """BEGIN and take the write lock; the first write enters `db.atomic()` (a savepoint) until the end.

        Commits when the block ends normally, rolls everything back when it raises. A block that
        only reads commits an empty transaction and never imports sqlite-utils.
        """
        conn = self.conn
        conn.execute("BEGIN")
        try:
            try:
                conn.execute("UPDATE runs SET id = id WHERE 0")
            except sqlite3.OperationalError as exc:
                raise _busy(self.lock_timeout) from exc
            with ExitStack() as writes:

                def enter_atomic() -> None:
                    writes.enter_context(self.db.atomic())

                conn.before_write = enter_atomic
                try:
                    yield
                finally:
                    conn.before_write = None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def ensure_run(self) -> int:
        """The id of this command's run row, inserting it on first use inside `writing()`."""
        if self.run_id is None:
            command, started, config_hash = self._pending_run
            if callable(config_hash):
                config_hash = config_hash()
            cursor = self.conn.execute(
                "INSERT INTO runs (command, started_at, config_hash) VALUES (?, ?, ?)",
                (command, started, config_hash),
            )
            self.run_id = int(cursor.lastrowid or 0)
        return self.run_id

    def set_run_summary(self, summary: dict[str, Any]) -> None:
        run_id = self.ensure_run()
        self.conn.execute("UPDATE runs SET summary = ? WHERE id = ?", (json.dumps(summary, sort_keys=True), run_id))

    def add_event(
        self,
        at: datetime,
        kind: str,
        *,
        project: str | None = None,
        ticket: str | None = None,
        agent: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the log (inside `writing()`)."""
        run_id = self.ensure_run()
        self.conn.execute(
            "INSERT INTO events (at, run_id, kind, project, ticket, agent, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (format_datetime(at), run_id, kind, project, ticket, agent, json.dumps(data or {}, sort_keys=True)),
        )

    def close(self) -> None:
        self.conn.close()


def _sqlite_utils_database() -> type[Database]:
    """sqlite-utils' `Database`, imported without numpy and pandas.

    At import, sqlite-utils loads numpy and pandas when they are installed, only to map their scalar
    types to column types for `table.insert()`. taskdist never inserts through it (it runs the
    migrations and the transactions; every write is SQL), and numpy is about 65 ms of start-up on
    every writing command that has no other use for it (`import`, `done`, `claim`...). Marking them
    absent while sqlite-utils imports makes its optional import fail as if they were not installed;
    the marks are removed at once, so `import numpy` works as usual afterwards.
    """
    if "sqlite_utils" not in sys.modules:
        absent = [name for name in ("numpy", "pandas") if name not in sys.modules]
        for name in absent:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            import sqlite_utils  # noqa: F401
        finally:
            for name in absent:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
    from sqlite_utils import Database

    return Database


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction so that it is rolled back."""


def _busy(timeout: float) -> LedgerBusy:
    return LedgerBusy(
        f"another taskdist command is writing to the ledger and held it for more than {timeout:g} s; "
        "try again later (or raise ledger.lock_timeout_seconds in taskdist.yaml)"
    )


def open_ledger(path: Path, *, create: bool = False, lock_timeout: float = 30.0) -> Ledger:
    """Open (and with `create`, make) the ledger at `path`, applying pending migrations."""
    if not path.exists():
        if not create:
            raise LedgerNotFound(
                f"no ledger at {path}; run `taskdist import PATH` (or `taskdist init`) first, or pass --db"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TaskdistError(f"cannot create the ledger folder {path.parent}: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(str(path), timeout=lock_timeout, factory=LedgerConnection)
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        conn.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils sets it
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = wal")
        conn.execute("PRAGMA synchronous = NORMAL")
        ledger = Ledger(conn=conn, path=path, lock_timeout=lock_timeout)
        if _migrations_pending(conn):
            _migrate(ledger)
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _busy(lock_timeout) from exc
        raise TaskdistError(
            f"{path} is not a usable taskdist ledger ({exc}); check --db or move the file away"
        ) from exc
    return ledger


def discard_unused_ledger(path: Path, *, remove_folder: bool) -> None:
    """Delete the ledger at `path` (and its folder, with `remove_folder`, when that is left empty) if
    it holds no run, ticket or agent: what a command that created it and then failed leaves behind.

    Without this, a first `import` that wrote nothing (`--strict`, or no readable ticket) would leave
    an empty ledger that later commands read as "no tickets" instead of "run import first". A ledger
    that anything was written to, by this process or another, is never touched.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=5.0)
        try:
            used = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM runs) OR EXISTS (SELECT 1 FROM tickets) OR EXISTS (SELECT 1 FROM agents)"
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return
    if used:
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if remove_folder:
        with suppress(OSError):  # not empty: something else lives there
            path.parent.rmdir()


def _migrations_pending(conn: sqlite3.Connection) -> bool:
    """Whether a migration of MIGRATIONS is not recorded in sqlite-utils' `_sqlite_migrations` table."""
    table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    if conn.execute(table).fetchone() is None:
        return True
    applied = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,))
    return not set(MIGRATIONS) <= {name for (name,) in applied}


def _migrate(ledger: Ledger) -> None:
    """Apply the pending migrations with sqlite-utils `Migrations`, under the write lock."""
    db = ledger.db  # first: it imports sqlite-utils without numpy (see _sqlite_utils_database)
    from taskdist.ledger.schema import migrations

    with db.atomic():
        # Two commands opening a new ledger at once must not both migrate it: take the write lock
        # (rewriting user_version is a write), then look again. apply() nests in savepoints.
        version = ledger.conn.execute("PRAGMA user_version").fetchone()[0]
        ledger.conn.execute(f"PRAGMA user_version = {int(version)}")
        if migrations.pending(db):
            migrations.apply(db)
