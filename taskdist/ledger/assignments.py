"""SQL of the assignment side: decisions (the `assignments` table), outcomes for learning, write-back
bookkeeping. See schema migration 0003 for how an applied assignment survives re-imports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from taskdist.learning import FAILURE_EVENTS, SUCCESS_EVENTS, OutcomeRecord
from taskdist.ledger.db import Ledger

ACTIVE = ("applied", "claimed")


def outcome_records(ledger: Ledger) -> list[OutcomeRecord]:
    """Every outcome learning reads: done/failed events and tickets imported as done with an assignee."""
    kinds = (*SUCCESS_EVENTS, *FAILURE_EVENTS)
    marks = ",".join("?" * len(kinds))
    records = []
    cursor = ledger.conn.execute(
        "SELECT e.id, e.kind, e.project, e.ticket, e.agent, json_extract(e.data, '$.actual_hours'), "
        "t.skills, t.estimate_hours, t.estimate_assumed, t.actual_hours FROM events e "
        "LEFT JOIN tickets t ON t.project = e.project AND t.id = e.ticket "
        f"WHERE e.kind IN ({marks}) AND e.ticket IS NOT NULL ORDER BY e.id",
        kinds,
    )
    for event_id, kind, project, ticket, agent, actual, skills, estimate, assumed, file_actual in cursor:
        records.append(
            OutcomeRecord(
                project=project,
                ticket=ticket,
                name=agent,
                success=kind in SUCCESS_EVENTS,
                source="event",
                skills=tuple(json.loads(skills)) if skills else (),
                estimate_hours=None if assumed or estimate is None else float(estimate),
                actual_hours=_positive(actual) or _positive(file_actual),
                order=int(event_id),
            )
        )
    cursor = ledger.conn.execute(
        "SELECT project, id, assignee, skills, estimate_hours, estimate_assumed, actual_hours FROM tickets "
        "WHERE status = 'done' AND assignee IS NOT NULL ORDER BY project, id"
    )
    for project, ticket, assignee, skills, estimate, assumed, actual in cursor:
        records.append(
            OutcomeRecord(
                project=project,
                ticket=ticket,
                name=assignee,
                success=True,
                source="import",
                skills=tuple(json.loads(skills)),
                estimate_hours=None if assumed else float(estimate),
                actual_hours=_positive(actual),
            )
        )
    return records


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class NewAssignment:
    """One decision to write: who, how it scored, and the explanation shown by the dry run."""

    project: str
    ticket: str
    agent: str
    state: str
    strategy: str
    value: float
    priority: float
    compatibility: float
    runner_up: str | None
    runner_up_loss: float | None
    explanation: dict[str, Any]


def record_assignments(ledger: Ledger, decisions: Sequence[NewAssignment], created_at: str) -> list[int]:
    """Write decisions (inside `writing()`): earlier active rows of the same tickets become superseded,
    `tickets.assignee` becomes the agent, and the file's assignee at this moment is remembered."""
    run_id = ledger.ensure_run() if decisions else None
    ids = []
    for d in decisions:
        file_assignee = file_assignee_of(ledger, d.project, d.ticket)
        ledger.conn.execute(
            "UPDATE assignments SET state = 'superseded', superseded_at = ? "
            "WHERE project = ? AND ticket = ? AND state IN ('applied', 'claimed')",
            (created_at, d.project, d.ticket),
        )
        cursor = ledger.conn.execute(
            "INSERT INTO assignments (project, ticket, agent, state, strategy, value, priority, compatibility, "
            "runner_up, runner_up_loss, explanation, file_assignee, created_at, run_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                d.project,
                d.ticket,
                d.agent,
                d.state,
                d.strategy,
                d.value,
                d.priority,
                d.compatibility,
                d.runner_up,
                d.runner_up_loss,
                json.dumps(d.explanation, sort_keys=True),
                file_assignee,
                created_at,
                run_id,
            ),
        )
        ids.append(int(cursor.lastrowid or 0))
        if d.state in ACTIVE:
            ledger.conn.execute(
                "UPDATE tickets SET assignee = ? WHERE project = ? AND id = ?", (d.agent, d.project, d.ticket)
            )
    return ids


def file_assignee_of(ledger: Ledger, project: str, ticket: str) -> str | None:
    """What the ticket's file says: the active assignment remembers it (the ledger's column then holds the
    agent); without one, the column is the file's value."""
    row = ledger.conn.execute(
        "SELECT file_assignee FROM assignments WHERE project = ? AND ticket = ? AND state IN ('applied', 'claimed')",
        (project, ticket),
    ).fetchone()
    if row is not None:
        return str(row[0]) if row[0] is not None else None
    row = ledger.conn.execute("SELECT assignee FROM tickets WHERE project = ? AND id = ?", (project, ticket)).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else None


def active_assignments(ledger: Ledger, project: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """The applied or claimed assignment of each ticket that has one."""
    where = "WHERE state IN ('applied', 'claimed')" + (" AND project = ?" if project else "")
    cursor = ledger.conn.execute(
        "SELECT project, ticket, agent, state, value, created_at, file_assignee FROM assignments "
        f"{where} ORDER BY project, ticket",
        (project,) if project else (),
    )
    return {
        (r[0], r[1]): {"agent": r[2], "state": r[3], "value": r[4], "created_at": r[5], "file_assignee": r[6]}
        for r in cursor
    }


def ticket_assignments(ledger: Ledger, project: str, ticket: str) -> list[dict[str, Any]]:
    """Every decision about one ticket, oldest first."""
    cursor = ledger.conn.execute(
        "SELECT id, agent, state, strategy, value, priority, compatibility, runner_up, runner_up_loss, "
        "created_at, superseded_at, run_id FROM assignments WHERE project = ? AND ticket = ? ORDER BY id",
        (project, ticket),
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


@dataclass(frozen=True, slots=True)
class FileOfTicket:
    """Where a ticket's winning file is and what the ledger remembers of its bytes."""

    project: str
    ticket: str
    path: str
    content_hash: str
    missing: bool
    dialect: str


def files_of(ledger: Ledger, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], FileOfTicket]:
    found = {}
    for project, ticket in keys:
        row = ledger.conn.execute(
            "SELECT path, content_hash, missing, dialect FROM tickets WHERE project = ? AND id = ?",
            (project, ticket),
        ).fetchone()
        if row is not None:
            found[(project, ticket)] = FileOfTicket(project, ticket, row[0], row[1], bool(row[2]), row[3])
    return found


def record_written_file(
    ledger: Ledger,
    project: str,
    ticket: str,
    path: str,
    *,
    content_hash: str,
    size: int,
    mtime_ns: int,
    assignee: str,
    frontmatter_key: str,
    frontmatter_value: Any,
    assignee_raw: str | None = None,
) -> None:
    """After a write-back: the ledger remembers the file's new bytes (so the next import sees no foreign
    change), its frontmatter copy shows the new value, and the active assignment knows the file agrees."""
    ledger.conn.execute(
        "UPDATE tickets SET content_hash = ?, size = ?, mtime_ns = ?, assignee = ?, assignee_raw = ? "
        "WHERE project = ? AND id = ?",
        (content_hash, size, mtime_ns, assignee, assignee_raw, project, ticket),
    )
    ledger.conn.execute(
        "UPDATE files SET content_hash = ?, size = ?, mtime_ns = ? WHERE path = ?",
        (content_hash, size, mtime_ns, path),
    )
    row = ledger.conn.execute(
        "SELECT frontmatter FROM ticket_text WHERE project = ? AND id = ?", (project, ticket)
    ).fetchone()
    if row is not None:
        data = json.loads(row[0])
        if isinstance(data, dict):
            data[frontmatter_key] = frontmatter_value
            ledger.conn.execute(
                "UPDATE ticket_text SET frontmatter = ? WHERE project = ? AND id = ?",
                (json.dumps(data, sort_keys=True, ensure_ascii=False), project, ticket),
            )
    ledger.conn.execute(
        "UPDATE assignments SET file_assignee = ? WHERE project = ? AND ticket = ? AND state IN ('applied', 'claimed')",
        (assignee, project, ticket),
    )


_WORK_KINDS = ("issue", "task", "pr", "bug")
_REMAINING = (
    "estimate_hours * (1.0 - MIN(1.0, MAX(0.0, COALESCE(completion_pct / 100.0, "
    "CASE WHEN checklist_total > 0 THEN 1.0 * checklist_done / checklist_total ELSE 0.0 END))))"
)


def held_work(ledger: Ledger) -> list[tuple[str, int, float]]:
    """(assignee as written, open work items held, hours of work left) per assignee spelling."""
    marks = ",".join("?" * len(_WORK_KINDS))
    cursor = ledger.conn.execute(
        f"SELECT assignee, count(*), SUM({_REMAINING}) FROM tickets WHERE assignee IS NOT NULL "
        f"AND status NOT IN ('done', 'cancelled') AND missing = 0 AND kind IN ({marks}) "
        "GROUP BY assignee ORDER BY assignee",
        _WORK_KINDS,
    )
    return [(str(r[0]), int(r[1]), float(r[2] or 0.0)) for r in cursor]
