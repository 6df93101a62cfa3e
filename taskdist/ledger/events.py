"""Reading the append-only event log and the run history."""

from __future__ import annotations

import json
from typing import Any

from taskdist.ledger.db import Ledger


def ticket_events(ledger: Ledger, project: str, ticket_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """A ticket's events, oldest first."""
    sql = "SELECT id, at, run_id, kind, agent, data FROM events WHERE project = ? AND ticket = ? ORDER BY id"
    rows = ledger.conn.execute(sql, (project, ticket_id)).fetchall()
    if limit is not None:
        rows = rows[-limit:]
    return [
        {"event": r[0], "at": r[1], "run": r[2], "kind": r[3], "agent": r[4], "data": json.loads(r[5])} for r in rows
    ]


def runs(ledger: Ledger, limit: int = 50) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    cursor = ledger.conn.execute(
        "SELECT id, command, started_at, finished_at, config_hash, summary FROM runs ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [
        {
            "run": r[0],
            "command": r[1],
            "started_at": r[2],
            "finished_at": r[3],
            "config_hash": r[4],
            "summary": json.loads(r[5]),
        }
        for r in cursor
    ]


def tickets_with_event_since(ledger: Ledger, kind: str, since: str) -> set[tuple[str, str]]:
    """(project, ticket) of every ticket with an event of `kind` at or after `since` (ledger time text)."""
    cursor = ledger.conn.execute(
        "SELECT DISTINCT project, ticket FROM events WHERE kind = ? AND at >= ? AND ticket IS NOT NULL", (kind, since)
    )
    return {(r[0], r[1]) for r in cursor}
