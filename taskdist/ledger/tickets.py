"""Tickets and their source files in the ledger: rows in, `Ticket` records out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from taskdist.ledger.db import Ledger
from taskdist.models import Kind, Priority, Status, Ticket
from taskdist.tickets.normalize import format_datetime, parse_stored_datetime

# Columns compared to decide whether a re-read ticket changed (and named in the `updated` event).
COMPARED_COLUMNS = (
    "kind",
    "title",
    "status",
    "status_raw",
    "priority",
    "priority_raw",
    "assignee",
    "assignee_raw",
    "created",
    "updated",
    "due",
    "closed",
    "estimate_hours",
    "estimate_source",
    "estimate_assumed",
    "actual_hours",
    "checklist_done",
    "checklist_total",
    "completion_pct",
    "skills",
    "skills_source",
    "parent",
    "depends_on",
    "blocks",
    "business",
    "dialect",
    "path",
)
TEXT_COLUMNS = ("body", "frontmatter", "relations")


@dataclass(slots=True)
class FileState:
    """What the ledger remembers of one source file, to skip it cheaply when unchanged."""

    path: str
    project: str
    rel_path: str
    state: str  # ticket | duplicate | error | skipped | missing
    ticket_id: str | None
    updated: str | None
    demoted: bool
    size: int
    mtime_ns: int
    content_hash: str | None
    reason: str | None
    line: int | None
    warnings: list[str]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    """The `tickets` columns compared for change (without file bookkeeping)."""
    return {
        "kind": ticket.kind.value,
        "title": ticket.title,
        "status": ticket.status.value,
        "status_raw": ticket.status_raw,
        "priority": ticket.priority.value if ticket.priority else None,
        "priority_raw": ticket.priority_raw,
        "assignee": ticket.assignee,
        "assignee_raw": ticket.assignee_raw,
        "created": format_datetime(ticket.created),
        "updated": format_datetime(ticket.updated),
        "due": format_datetime(ticket.due),
        "closed": format_datetime(ticket.closed),
        "estimate_hours": float(ticket.estimate_hours),
        "estimate_source": ticket.estimate_source,
        "estimate_assumed": int(ticket.estimate_assumed),
        "actual_hours": ticket.actual_hours,
        "checklist_done": ticket.checklist_done,
        "checklist_total": ticket.checklist_total,
        "completion_pct": ticket.completion_pct,
        "skills": _dumps(list(ticket.skills)),
        "skills_source": ticket.skills_source,
        "parent": ticket.parent,
        "depends_on": _dumps(list(ticket.depends_on)),
        "blocks": _dumps(list(ticket.blocks)),
        "business": _dumps(ticket.business),
        "dialect": ticket.dialect,
        "path": ticket.path,
    }


def text_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "body": ticket.body,
        "frontmatter": _dumps(ticket.frontmatter),
        "relations": _dumps(ticket.relations),
    }


def ticket_from_row(row: dict[str, Any], text: dict[str, Any] | None = None) -> Ticket:
    """Rebuild a `Ticket` from a `tickets` row (and optionally its `ticket_text` row)."""
    return Ticket(
        project=row["project"],
        id=row["id"],
        kind=Kind(row["kind"]),
        title=row["title"],
        status=Status(row["status"]),
        status_raw=row["status_raw"],
        priority=Priority(row["priority"]) if row["priority"] else None,
        priority_raw=row["priority_raw"],
        assignee=row["assignee"],
        assignee_raw=row["assignee_raw"],
        created=parse_stored_datetime(row["created"]),
        updated=parse_stored_datetime(row["updated"]),
        due=parse_stored_datetime(row["due"]),
        closed=parse_stored_datetime(row["closed"]),
        estimate_hours=row["estimate_hours"],
        estimate_source=row["estimate_source"],
        estimate_assumed=bool(row["estimate_assumed"]),
        actual_hours=row["actual_hours"],
        checklist_done=row["checklist_done"],
        checklist_total=row["checklist_total"],
        completion_pct=row["completion_pct"],
        skills=tuple(json.loads(row["skills"])),
        skills_source=row["skills_source"],
        parent=row["parent"],
        depends_on=tuple(json.loads(row["depends_on"])),
        blocks=tuple(json.loads(row["blocks"])),
        business=json.loads(row["business"]),
        dialect=row["dialect"],
        path=row["path"],
        relations=json.loads(text["relations"]) if text else {},
        frontmatter=json.loads(text["frontmatter"]) if text else {},
        body=text["body"] if text else "",
    )


def file_states(ledger: Ledger, project: str) -> dict[str, FileState]:
    """Every source file the ledger knows for `project`, by absolute path."""
    cursor = ledger.conn.execute(
        "SELECT path, project, rel_path, state, ticket_id, updated, demoted, size, mtime_ns, content_hash, "
        "reason, line, warnings FROM files WHERE project = ?",
        (project,),
    )
    states = {}
    for r in cursor:
        # Almost every file has no warning: skip json.loads for "[]" (a third of a warm 100k re-import).
        warnings = [] if r[12] == "[]" else json.loads(r[12])
        states[r[0]] = FileState(
            r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9], r[10], r[11], warnings
        )
    return states


def save_file_states(ledger: Ledger, states: Iterable[FileState]) -> None:
    ledger.conn.executemany(
        "INSERT INTO files (path, project, rel_path, state, ticket_id, updated, demoted, size, mtime_ns, "
        "content_hash, reason, line, warnings) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT(path) DO UPDATE SET project=excluded.project, rel_path=excluded.rel_path, "
        "state=excluded.state, ticket_id=excluded.ticket_id, updated=excluded.updated, "
        "demoted=excluded.demoted, size=excluded.size, mtime_ns=excluded.mtime_ns, "
        "content_hash=excluded.content_hash, reason=excluded.reason, line=excluded.line, "
        "warnings=excluded.warnings",
        [
            (
                s.path,
                s.project,
                s.rel_path,
                s.state,
                s.ticket_id,
                s.updated,
                int(s.demoted),
                s.size,
                s.mtime_ns,
                s.content_hash,
                s.reason,
                s.line,
                _dumps(s.warnings),
            )
            for s in states
        ],
    )


def stored_rows(ledger: Ledger, project: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current `tickets` rows for some ids of a project (chunked to stay under SQLite's variable cap)."""
    wanted = list(ids)
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = ledger.conn.execute(f"SELECT * FROM tickets WHERE project = ? AND id IN ({marks})", (project, *chunk))
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            rows[row["id"]] = row
    return rows


def stored_texts(ledger: Ledger, project: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current `ticket_text` rows (body, frontmatter, relations) for some ids of a project."""
    wanted = list(ids)
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = ledger.conn.execute(
            f"SELECT id, body, frontmatter, relations FROM ticket_text WHERE project = ? AND id IN ({marks})",
            (project, *chunk),
        )
        for r in cursor:
            rows[r[0]] = {"body": r[1], "frontmatter": r[2], "relations": r[3]}
    return rows


def write_ticket(
    ledger: Ledger, ticket: Ticket, *, content_hash: str, size: int, mtime_ns: int, imported_at: str, exists: bool
) -> None:
    """Insert or replace a ticket's row and text (inside `writing()`)."""
    row = {
        "project": ticket.project,
        "id": ticket.id,
        **ticket_row(ticket),
        "content_hash": content_hash,
        "size": size,
        "mtime_ns": mtime_ns,
        "missing": 0,
        "read_error": None,
        "imported_at": imported_at,
    }
    columns = list(row)
    marks = ",".join("?" * len(columns))
    ledger.conn.execute(
        f"INSERT OR REPLACE INTO tickets ({','.join(columns)}) VALUES ({marks})",
        [row[c] for c in columns],
    )
    text = {"project": ticket.project, "id": ticket.id, **text_row(ticket)}
    ledger.conn.execute(
        "INSERT OR REPLACE INTO ticket_text (project, id, body, frontmatter, relations) VALUES (?,?,?,?,?)",
        [text[c] for c in ("project", "id", "body", "frontmatter", "relations")],
    )
    _ = exists


def flag_ticket(ledger: Ledger, project: str, ticket_id: str, *, missing: bool, read_error: str | None) -> None:
    """Mark a ticket whose file is gone (`missing`) or unreadable (`read_error`); its last good version stays."""
    ledger.conn.execute(
        "UPDATE tickets SET missing = ?, read_error = ? WHERE project = ? AND id = ?",
        (int(missing), read_error, project, ticket_id),
    )


def project_roots(ledger: Ledger, project: str) -> set[str]:
    """The folder a project was last imported from (empty for a new project)."""
    return {r[0] for r in ledger.conn.execute("SELECT root FROM projects WHERE name = ?", (project,))}


def record_project(ledger: Ledger, project: str, root: str, now: str) -> None:
    ledger.conn.execute(
        "INSERT INTO projects (name, root, first_imported) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET root = excluded.root WHERE root != excluded.root",
        (project, root, now),
    )


def replace_import_problems(
    ledger: Ledger, project: str, problems: Iterable[tuple[str, int | None, str, str]], run_id: int
) -> None:
    """The current set of read problems for a project: (path, line, reason, severity)."""
    ledger.conn.execute("DELETE FROM import_errors WHERE project = ?", (project,))
    ledger.conn.executemany(
        "INSERT INTO import_errors (path, project, line, reason, severity, run_id) VALUES (?,?,?,?,?,?)",
        [(path, project, line, reason, severity, run_id) for path, line, reason, severity in problems],
    )


def current_problems(ledger: Ledger, project: str) -> set[tuple[str, int | None, str, str]]:
    cursor = ledger.conn.execute("SELECT path, line, reason, severity FROM import_errors WHERE project = ?", (project,))
    return {(r[0], r[1], r[2], r[3]) for r in cursor}


def count_tickets(ledger: Ledger, projects: Iterable[str]) -> int:
    names = list(projects)
    if not names:
        return 0
    marks = ",".join("?" * len(names))
    row = ledger.conn.execute(f"SELECT count(*) FROM tickets WHERE project IN ({marks})", names).fetchone()
    return int(row[0])


def iter_tickets(
    ledger: Ledger,
    *,
    project: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    kind: str | None = None,
    with_text: bool = False,
    ticket_id: str | None = None,
) -> Iterator[Ticket]:
    """Tickets matching the filters, ordered by project and id."""
    clauses, params = [], []
    filters = (
        ("t.project", project),
        ("t.status", status),
        ("t.assignee", assignee),
        ("t.kind", kind),
        ("t.id", ticket_id),
    )
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    select = "t.*, x.body AS x_body, x.frontmatter AS x_frontmatter, x.relations AS x_relations" if with_text else "t.*"
    join = "LEFT JOIN ticket_text x ON x.project = t.project AND x.id = t.id" if with_text else ""
    cursor = ledger.conn.execute(f"SELECT {select} FROM tickets t {join} {where} ORDER BY t.project, t.id", params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        text = None
        if with_text:
            text = {
                "body": row["x_body"] or "",
                "frontmatter": row["x_frontmatter"] or "{}",
                "relations": row["x_relations"] or "{}",
            }
        yield ticket_from_row(row, text)


def ticket_flags(ledger: Ledger, project: str, ticket_id: str) -> dict[str, Any]:
    """Bookkeeping columns of one ticket (missing, read_error, hash, size, mtime, imported_at)."""
    row = ledger.conn.execute(
        "SELECT missing, read_error, content_hash, size, mtime_ns, imported_at FROM tickets "
        "WHERE project = ? AND id = ?",
        (project, ticket_id),
    ).fetchone()
    if row is None:
        return {}
    return dict(zip(("missing", "read_error", "content_hash", "size", "mtime_ns", "imported_at"), row, strict=True))


def find_ticket_keys(ledger: Ledger, ticket_id: str, project: str | None = None) -> list[tuple[str, str]]:
    """(project, id) pairs for an id, exact match first, else case-insensitive."""
    if project is not None:
        rows = ledger.conn.execute(
            "SELECT project, id FROM tickets WHERE project = ? AND id = ?", (project, ticket_id)
        ).fetchall()
        if not rows:
            rows = ledger.conn.execute(
                "SELECT project, id FROM tickets WHERE project = ? AND id = ? COLLATE NOCASE", (project, ticket_id)
            ).fetchall()
    else:
        rows = ledger.conn.execute("SELECT project, id FROM tickets WHERE id = ?", (ticket_id,)).fetchall()
        if not rows:
            rows = ledger.conn.execute(
                "SELECT project, id FROM tickets WHERE id = ? COLLATE NOCASE", (ticket_id,)
            ).fetchall()
    return [(r[0], r[1]) for r in rows]


def project_names(ledger: Ledger) -> list[str]:
    return [r[0] for r in ledger.conn.execute("SELECT name FROM projects ORDER BY name")]


def import_problems(ledger: Ledger, projects: Iterable[str]) -> list[dict[str, Any]]:
    names = list(projects)
    if not names:
        return []
    marks = ",".join("?" * len(names))
    cursor = ledger.conn.execute(
        f"SELECT path, line, reason, severity, project FROM import_errors WHERE project IN ({marks}) "
        "ORDER BY project, path, severity",
        names,
    )
    return [{"path": r[0], "line": r[1], "reason": r[2], "severity": r[3], "project": r[4]} for r in cursor]
