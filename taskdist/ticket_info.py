"""`taskdist show` and `taskdist tickets`: one ticket with everything known about it, or a filtered list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taskdist.ledger import events as event_log
from taskdist.ledger import tickets as store
from taskdist.ledger.db import Ledger
from taskdist.lookup import resolve_ticket
from taskdist.models import Ticket


@dataclass(slots=True)
class TicketDetails:
    ticket: Ticket
    flags: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


def ticket_details(ledger: Ledger, ref: str, project: str | None = None) -> TicketDetails:
    """The ticket a reference names, with its body, frontmatter, flags and latest events."""
    key = resolve_ticket(ledger, ref, project)
    ticket = next(store.iter_tickets(ledger, project=key[0], with_text=True, ticket_id=key[1]))
    return TicketDetails(ticket, store.ticket_flags(ledger, *key), event_log.ticket_events(ledger, *key, limit=20))


def list_tickets(
    ledger: Ledger, *, project: str | None, status: str | None, assignee: str | None, kind: str | None
) -> list[Ticket]:
    return list(store.iter_tickets(ledger, project=project, status=status, assignee=assignee, kind=kind))
