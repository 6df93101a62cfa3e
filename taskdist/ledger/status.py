"""SQL of the status side: outcome overrides, escalations, workload snapshots, and the history the
progress and escalation models read (status changes, failures, actual hours)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.ledger.db import Ledger


def epoch(column: str) -> str:
    """SQL for a stored timestamp as POSIX seconds: `unixepoch` where SQLite has it (2x faster)."""
    if sqlite3.sqlite_version_info >= (3, 38, 0):
        return f"unixepoch({column})"
    return f"CAST(strftime('%s', {column}) AS REAL)"


# --- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketState:
    """What an outcome command needs of one ticket: the ledger's status, the file's, who holds it."""

    project: str
    id: str
    kind: str
    status: str
    file_status: str
    assignee: str | None
    estimate_hours: float
    estimate_assumed: bool
    path: str
    content_hash: str
    missing: bool


def ticket_state(ledger: Ledger, project: str, ticket_id: str) -> TicketState | None:
    row = ledger.conn.execute(
        "SELECT t.project, t.id, t.kind, t.status, COALESCE(o.file_status, t.status), t.assignee, t.estimate_hours, "
        "t.estimate_assumed, t.path, t.content_hash, t.missing FROM tickets t "
        "LEFT JOIN status_overrides o ON o.project = t.project AND o.id = t.id WHERE t.project = ? AND t.id = ?",
        (project, ticket_id),
    ).fetchone()
    if row is None:
        return None
    return TicketState(
        row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]), bool(row[7]), row[8], row[9], bool(row[10])
    )


def set_outcome_status(ledger: Ledger, state: TicketState, status: str, kind: str, at: str) -> None:
    """Make `status` the ledger's view of the ticket, remembering what the file says (see schema 0004)."""
    ledger.conn.execute("UPDATE tickets SET status = ? WHERE project = ? AND id = ?", (status, state.project, state.id))
    if status == state.file_status:
        ledger.conn.execute("DELETE FROM status_overrides WHERE project = ? AND id = ?", (state.project, state.id))
        return
    ledger.conn.execute(
        "INSERT INTO status_overrides (project, id, status, file_status, kind, at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(project, id) DO UPDATE SET status = excluded.status, kind = excluded.kind, at = excluded.at",
        (state.project, state.id, status, state.file_status, kind, at),
    )


def record_file_status(ledger: Ledger, project: str, ticket_id: str, file_status: str, content_hash: str) -> None:
    """After a write-back the file says the ledger's status: no override needed; remember the new bytes."""
    ledger.conn.execute("DELETE FROM status_overrides WHERE project = ? AND id = ?", (project, ticket_id))
    ledger.conn.execute(
        "UPDATE tickets SET status = ?, content_hash = ? WHERE project = ? AND id = ?",
        (file_status, content_hash, project, ticket_id),
    )


# --- history the models read ------------------------------------------------------------------------


@dataclass(slots=True)
class OutcomeHistory:
    """Per ticket: failures (count, agents, last time), last start, and when its status last changed.

    Times are POSIX seconds.
    """

    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    failed_agents: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    last_failed: dict[tuple[str, str], float] = field(default_factory=dict)
    last_started: dict[tuple[str, str], float] = field(default_factory=dict)
    status_changed: dict[tuple[str, str], float] = field(default_factory=dict)


def outcome_history(ledger: Ledger) -> OutcomeHistory:
    """Outcome events and status changes recorded by imports, oldest first (uses the kind index)."""
    history = OutcomeHistory()
    cursor = ledger.conn.execute(
        f"SELECT project, ticket, kind, agent, {epoch('at')}, data FROM events "
        "WHERE kind IN ('started', 'done', 'failed', 'updated') AND ticket IS NOT NULL ORDER BY id"
    )
    for project, ticket, kind, agent, at, data in cursor:
        key = (project, ticket)
        if kind == "updated":
            # Only an import that changed the status field counts as a status change.
            if '"status"' not in data or "status" not in json.loads(data).get("fields", ()):
                continue
            history.status_changed[key] = at
            continue
        history.status_changed[key] = at
        if kind == "failed":
            history.failures[key] = history.failures.get(key, 0) + 1
            history.last_failed[key] = at
            if agent:
                history.failed_agents.setdefault(key, []).append(agent)
        elif kind == "started":
            history.last_started[key] = at
    return history


def speed_samples(ledger: Ledger) -> list[tuple[str, float, float]]:
    """(assignee as written, estimated hours, actual hours) of finished work with both known.

    A `done` event's actual hours win over the file's `actual_hours` for the same ticket. Assumed
    estimates are left out: a default tells nothing about an agent's speed.
    """
    samples: dict[tuple[str, str], tuple[str, float, float]] = {}
    cursor = ledger.conn.execute(
        "SELECT project, id, assignee, estimate_hours, actual_hours FROM tickets "
        "WHERE status = 'done' AND actual_hours > 0 AND estimate_hours > 0 AND estimate_assumed = 0 "
        "AND assignee IS NOT NULL"
    )
    for project, ticket, assignee, estimate, actual in cursor:
        samples[(project, ticket)] = (assignee, float(estimate), float(actual))
    cursor = ledger.conn.execute(
        "SELECT e.project, e.ticket, e.agent, t.estimate_hours, json_extract(e.data, '$.actual_hours') FROM events e "
        "JOIN tickets t ON t.project = e.project AND t.id = e.ticket "
        "WHERE e.kind = 'done' AND e.agent IS NOT NULL AND t.estimate_assumed = 0 AND t.estimate_hours > 0 "
        "AND json_extract(e.data, '$.actual_hours') > 0 ORDER BY e.id"
    )
    for project, ticket, agent, estimate, actual in cursor:
        samples[(project, ticket)] = (agent, float(estimate), float(actual))
    return list(samples.values())


@dataclass(slots=True)
class StatusColumns:
    """The columns the status models need beyond the priority engine's, in (project, id) order.

    `updated`: POSIX seconds of the file's `updated` (else `created`), NaN when it has neither.
    """

    parent: list[str | None]
    updated: npt.NDArray[np.float64]


def load_status_columns(ledger: Ledger) -> StatusColumns:
    """One scan of the covering index `tickets_rollup` (the wide rows are never touched).

    Parents are resolved in Python: a join would look up every parent in the primary-key index, and
    those random reads cost several times the scan on a large ledger.
    """
    rows = ledger.conn.execute(
        f"SELECT parent, {epoch('COALESCE(updated, created)')} FROM tickets ORDER BY project, id"
    ).fetchall()
    if not rows:
        return StatusColumns([], np.zeros(0, dtype=np.float64))
    parent, updated = zip(*rows, strict=True)
    return StatusColumns(list(parent), np.array(updated, dtype=np.float64))


@dataclass(frozen=True, slots=True)
class RowDetail:
    """What a report shows of a ticket beyond the arrays: its kind and checked/all boxes."""

    kind: str
    checklist_done: int
    checklist_total: int


def row_details(ledger: Ledger, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], RowDetail]:
    """Kind and checklist of the few tickets a report shows (by primary key)."""
    wanted = list(keys)
    found: dict[tuple[str, str], RowDetail] = {}
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        marks = " OR ".join("(project = ? AND id = ?)" for _ in chunk)
        cursor = ledger.conn.execute(
            f"SELECT project, id, kind, checklist_done, checklist_total FROM tickets WHERE {marks}",
            [v for key in chunk for v in key],
        )
        for project, ticket, kind, done, total in cursor:
            found[(project, ticket)] = RowDetail(kind, int(done), int(total))
    return found


# --- escalations ------------------------------------------------------------------------------------

_ESCALATION_COLUMNS = (
    "id",
    "rule",
    "subject",
    "project",
    "ticket",
    "agent",
    "level",
    "cycle",
    "recoveries",
    "opened_at",
    "last_level_at",
    "closed_at",
    "cause",
    "data",
)


@dataclass(slots=True)
class EscalationRows:
    """Open escalations as columns (cheap to load by the ten thousand); `record(i)` is one as a mapping."""

    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["id"])

    def record(self, i: int) -> dict[str, Any]:
        return {name: values[i] for name, values in self.columns.items()}

    def records(self) -> list[dict[str, Any]]:
        return [self.record(i) for i in range(len(self))]


def open_escalations(ledger: Ledger, with_data: bool = True) -> EscalationRows:
    """Every open escalation, oldest first (`data` decoded only when asked: reports do not need it)."""
    names = _ESCALATION_COLUMNS if with_data else tuple(c for c in _ESCALATION_COLUMNS if c != "data")
    rows = ledger.conn.execute(
        f"SELECT {', '.join(names)} FROM escalations WHERE closed_at IS NULL ORDER BY id"
    ).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    columns = {name: list(column) for name, column in zip(names, values, strict=True)}
    columns["data"] = [json.loads(d) for d in columns["data"]] if with_data else [{}] * len(rows)
    return EscalationRows(columns)


def insert_escalation(ledger: Ledger, record: dict[str, Any]) -> int:
    columns = [c for c in _ESCALATION_COLUMNS if c != "id"]
    values = [json.dumps(record.get(c) or {}, sort_keys=True) if c == "data" else record.get(c) for c in columns]
    cursor = ledger.conn.execute(
        f"INSERT INTO escalations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
    )
    return int(cursor.lastrowid or 0)


def update_escalation(ledger: Ledger, escalation_id: int, changes: dict[str, Any]) -> None:
    names = sorted(changes)
    values = [json.dumps(changes[n], sort_keys=True) if n == "data" else changes[n] for n in names]
    assignments = ", ".join(f"{n} = ?" for n in names if n in _ESCALATION_COLUMNS)
    ledger.conn.execute(f"UPDATE escalations SET {assignments} WHERE id = ?", (*values, escalation_id))


# --- workload snapshots -------------------------------------------------------------------------------

_SNAPSHOT_COLUMNS = (
    "at",
    "open_tickets",
    "ready_tickets",
    "backlog_hours",
    "ready_backlog_hours",
    "team_capacity_hours",
    "health",
)


def save_snapshot(ledger: Ledger, snapshot: dict[str, Any]) -> None:
    """One snapshot per run (the latest write of a run wins)."""
    run_id = ledger.ensure_run()
    ledger.conn.execute(
        f"INSERT OR REPLACE INTO workload_snapshots (run_id, {', '.join(_SNAPSHOT_COLUMNS)}) "
        f"VALUES (?, {', '.join('?' * len(_SNAPSHOT_COLUMNS))})",
        (run_id, *(snapshot[c] for c in _SNAPSHOT_COLUMNS)),
    )


def snapshots_before(ledger: Ledger, before: str, limit: int = 500) -> list[dict[str, Any]]:
    """The latest snapshots taken before `before`, oldest first."""
    cursor = ledger.conn.execute(
        f"SELECT {', '.join(_SNAPSHOT_COLUMNS)} FROM workload_snapshots WHERE at < ? ORDER BY at DESC LIMIT ?",
        (before, limit),
    )
    rows = [dict(zip(_SNAPSHOT_COLUMNS, r, strict=True)) for r in cursor]
    return rows[::-1]


@contextmanager
def read_snapshot(ledger: Ledger) -> Iterator[None]:
    """Run several reads against one consistent snapshot (a no-op inside a write transaction).

    In WAL mode a read transaction never waits for a writer and never blocks one.
    """
    if ledger.conn.in_transaction:
        yield
        return
    ledger.conn.execute("BEGIN")
    try:
        yield
    finally:
        ledger.conn.execute("COMMIT")
