"""Opening the ledger, the write lock, and the one transaction every writing command runs in.

Concurrency model: WAL, so readers never wait for a writer. A writing command calls
`Ledger.writing()`, which opens a transaction and takes SQLite's write lock *before* reading any
state (a no-op UPDATE acquires it), waiting at most `lock_timeout_seconds` for another writer; after
that it raises `LedgerBusy` (exit code 75). Everything the command writes commits at once or not at
all, so a process killed at any instant leaves the ledger as before or as after, never between.
A ledger that does not exist yet is built under a private name and appears whole (`building_ledger`).

Start-up cost: importing sqlite-utils costs about as much as a whole no-change command (it pulls
in click, pluggy and dateutil, and numpy unless kept out: see `_sqlite_utils_database`), so the
ledger runs on the plain sqlite3 connection and wraps it
in a sqlite-utils `Database` only when something is written or migrated: the first statement inside
`writing()` that may write enters `db.atomic()`, and every later write of the command runs inside
it. Reads, and a command that finds nothing to change, never import sqlite-utils.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime

from taskdist.errors import LedgerBusy, LedgerNotFound, TaskdistError
from taskdist.timestamps import format_datetime
from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from sqlite_utils import Database

# The migration set of taskdist/ledger/schema.py and its migrations' names, in order. Kept here so
# that "is the schema up to date?" is one query, without importing sqlite-utils; a test checks that
# this equals the names the `Migrations` object applies. Append a new migration's name here too.
MIGRATION_SET = "taskdist"
MIGRATIONS = (
    "0001_initial",
    "0003_assignments",
    "0004_status",
    "0005_reader_settings",
    "0006_keep_on_rewrite",
    "0007_settings_text",
)

_READ_VERBS = ("SELECT", "VALUES", "EXPLAIN")


def read_only(sql: str) -> bool:
    """Whether a statement cannot write: it starts with SELECT, VALUES or EXPLAIN, or is a bare `PRAGMA name`.

    Anything else (even a harmless WITH ... SELECT, or `PRAGMA x(1)`, which may set x) counts as a
    write, which at worst wraps a read in `db.atomic()`. String methods, not a regular expression:
    every statement of a re-import passes here, and `re` (with `enum`) costs it 3 ms of imports.
    """
    text = sql.lstrip()
    head = text[:7].upper()
    for verb in _READ_VERBS:
        if head.startswith(verb):
            after = text[len(verb) : len(verb) + 1]  # a whole word: SELECTED is not SELECT
            return not (after.isalnum() or after == "_")
    if not head.startswith("PRAGMA") or not text[6:7].isspace():
        return False
    name = text[6:].strip()
    name = name[:-1].rstrip() if name.endswith(";") else name
    return bool(name) and all(c.isalnum() or c in "_." for c in name)


class LedgerConnection(sqlite3.Connection):
    """The ledger's sqlite3 connection: calls `before_write` (once) ahead of the first statement that may write.

    Only the connection's own execute methods are watched: write through them, not through `cursor()`.
    """

    before_write: Callable[[], None] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.before_write is not None and not read_only(sql):
            self._fire()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        if self.before_write is not None and not read_only(sql):
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

    def __init__(self, conn: LedgerConnection, path: str, lock_timeout: float) -> None:
        self.conn = conn
        self.path = path
        self.lock_timeout = lock_timeout
        self.run_id: int | None = None
        self._depth = 0
        self._db: Database | None = None
        self._pending_run: tuple[str, str | None, str | Callable[[], str] | None] = ("", None, None)

    def __repr__(self) -> str:
        return f"Ledger({self.path!r})"

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
        import json  # json's decoder comes with it: not at module level (see taskdist.json_quote)

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
        import json  # not at module level (see taskdist.json_quote)

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


def open_ledger(path: str | os.PathLike[str], *, create: bool = False, lock_timeout: float = 30.0) -> Ledger:
    """Open (and with `create`, make) the ledger at `path`, applying pending migrations."""
    path = os.fspath(path)
    if not os.path.exists(path):
        if not create:
            raise LedgerNotFound(
                f"no ledger at {path}; run `taskdist import PATH` (or `taskdist init`) first, or pass --db"
            )
        _make_folder(_folder_of(path))
    try:
        conn = _connect(path, lock_timeout)
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


def _folder_of(path: str) -> str:
    """The folder a ledger file is in (as `Path.parent`: "." for a bare file name)."""
    return os.path.dirname(path) or "."


def _make_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise TaskdistError(f"cannot create the ledger folder {folder}: {exc.strerror}") from exc


def _connect(file: str, lock_timeout: float) -> LedgerConnection:
    """A connection to a ledger file with the settings every ledger runs with (journal mode aside)."""
    conn = sqlite3.connect(file, timeout=lock_timeout, factory=LedgerConnection)
    conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
    conn.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils sets it
    return conn


class LedgerAppeared(TaskdistError):
    """A ledger appeared at the path while a new one was being built there; nothing was published."""


@contextmanager
def building_ledger(path: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> Iterator[Ledger]:
    """A ledger that does not exist yet, built under a private name and published at `path` whole.

    Nobody else can open the file being built, so it needs neither WAL nor a synced journal: its
    writes go straight to the database file (a rollback journal in memory still undoes a failed
    transaction). That spares a cold import writing every page twice (WAL, then checkpoint): about
    0.7 s of a 100,000-ticket first import (main-process system time 1.7 -> 0.8 s). When the body
    succeeds, the file is switched to WAL, synced, and linked to `path`, which fails if a ledger
    appeared there meanwhile (`LedgerAppeared`: the caller imports into that one instead). When the body raises,
    the file and a folder made for it are removed: a failed first import leaves nothing behind,
    and until the publication other commands see no ledger, never half of one.
    """
    path = os.fspath(path)
    folder = _folder_of(path)
    made_folder = not os.path.exists(folder)
    _make_folder(folder)
    _remove_abandoned_builds(path)
    private = os.path.join(folder, f".{os.path.basename(path)}.building-{os.getpid()}")
    published = False
    try:
        ledger = _open_private(private, path, lock_timeout)
        try:
            yield ledger
            ledger.conn.execute("PRAGMA journal_mode = wal")
        finally:
            ledger.close()
        _publish(private, path)
        published = True
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with suppress(OSError):
                os.unlink(f"{private}{suffix}")
        if made_folder and not published:
            with suppress(OSError):  # not empty: something else lives there now
                os.rmdir(folder)


def _open_private(private: str, path: str, lock_timeout: float) -> Ledger:
    """The migrated ledger in the file only this process knows (see `building_ledger`)."""
    conn = _connect(private, lock_timeout)
    try:
        conn.execute("PRAGMA journal_mode = memory")
        conn.execute("PRAGMA synchronous = off")
        ledger = Ledger(conn=conn, path=path, lock_timeout=lock_timeout)
        _migrate(ledger)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise TaskdistError(
            f"cannot create a ledger in {_folder_of(path)} ({exc}); check the folder and the disk"
        ) from exc
    return ledger


def _publish(private: str, path: str) -> None:
    """Sync the built file and give it its name, unless a ledger took that name meanwhile."""
    appeared = LedgerAppeared(f"another command created a ledger at {path} meanwhile")
    try:
        with open(private, "rb") as built:
            os.fsync(built.fileno())
        try:
            os.link(private, path)  # atomic, and never replaces a ledger that appeared meanwhile
        except FileExistsError:
            raise appeared from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            # A file system without hard links (FAT, some network mounts): look, then rename.
            if os.path.exists(path):
                raise appeared from None
            os.replace(private, path)
    except OSError as exc:
        raise TaskdistError(f"cannot create the ledger {path}: {exc.strerror or exc}") from exc
    _sync_folder(_folder_of(path))


_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS})


def _remove_abandoned_builds(path: str) -> None:
    """Remove what builds of a ledger at `path` killed midway left (their process is gone)."""
    prefix = f".{os.path.basename(path)}.building-"
    with suppress(OSError):
        for entry in os.scandir(_folder_of(path)):
            if not entry.name.startswith(prefix):
                continue
            owner = entry.name[len(prefix) :].partition("-")[0]  # the pid, before any `-journal`
            if owner.isdigit() and not _process_alive(int(owner)):
                with suppress(OSError):
                    os.unlink(entry.path)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _sync_folder(folder: str) -> None:
    """Make a new name in `folder` durable (where the system lets a folder be synced)."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
