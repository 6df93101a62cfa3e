"""`taskdist runs` and `taskdist history ID`: what the ledger recorded, newest decisions last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskdist.ledger import events as event_log
from taskdist.ledger.db import Ledger
from taskdist.lookup import resolve_ticket


@dataclass(slots=True)
class TicketHistory:
    project: str
    ticket: str
    events: list[dict[str, Any]]


def ticket_history(ledger: Ledger, ref: str, project: str | None = None) -> TicketHistory:
    """Every event of one ticket, oldest first (imports, changes, assignments, moves, escalations, outcomes)."""
    key = resolve_ticket(ledger, ref, project)
    return TicketHistory(key[0], key[1], event_log.ticket_events(ledger, *key))


def recent_runs(ledger: Ledger, limit: int) -> list[dict[str, Any]]:
    """The latest runs of writing commands, newest first, with their summaries."""
    return event_log.runs(ledger, limit)
