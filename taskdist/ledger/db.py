"""Opening the ledger, the write lock, and the one transaction every writing command runs in.

Concurrency model: WAL, so readers never wait for a writer. A writing command calls
`Ledger.writing()`, which opens a transaction and takes SQLite's write lock *before* reading any
state (a no-op UPDATE acquires it), waiting at most `lock_timeout_seconds` for another writer; after
that it raises `LedgerBusy` (exit code 75). Everything the command writes commits at once or not at
all, so a process killed at any instant leaves the ledger as before or as after, never between.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from taskdist.errors import LedgerBusy, LedgerNotFound, TaskdistError
from taskdist.ledger.schema import migrations
from taskdist.tickets.normalize import format_datetime


@dataclass
class Ledger:
    """An open ledger: the sqlite-utils database and the run the current command writes under."""

    db: Database
    path: Path
    lock_timeout: float
    run_id: int | None = None
    _depth: int = 0

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def writing(
        self, command: str, now: datetime, config_hash: str | None = None, *, dry_run: bool = False
    ) -> Iterator[Ledger]:
        """One atomic write transaction, holding the write lock from its first statement.

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
            with self.db.atomic():
                try:
                    self.conn.execute("UPDATE runs SET id = id WHERE 0")
                except sqlite3.OperationalError as exc:
                    raise _busy(self.lock_timeout) from exc
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

    def ensure_run(self) -> int:
        """The id of this command's run row, inserting it on first use inside `writing()`."""
        if self.run_id is None:
            command, started, config_hash = self._pending_run
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


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction so that sqlite-utils rolls it back."""


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
        conn = sqlite3.connect(str(path), timeout=lock_timeout)
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        db = Database(conn)
        if db.journal_mode != "wal":
            db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        if migrations.pending(db):
            with db.atomic():
                # Two commands opening a new ledger at once must not both migrate it: take the write
                # lock (rewriting user_version is a write), then look again. apply() nests in savepoints.
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                conn.execute(f"PRAGMA user_version = {int(version)}")
                if migrations.pending(db):
                    migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _busy(lock_timeout) from exc
        raise TaskdistError(
            f"{path} is not a usable taskdist ledger ({exc}); check --db or move the file away"
        ) from exc
    return Ledger(db=db, path=path, lock_timeout=lock_timeout)
