"""Resolving a ticket reference typed by a user: `ID` when unique, `PROJECT:ID` always, or --project."""

from __future__ import annotations

from taskdist.errors import AmbiguousTicket, TicketNotFound
from taskdist.ledger import tickets as store
from taskdist.ledger.db import Ledger


def resolve_ticket(ledger: Ledger, ref: str, project: str | None = None) -> tuple[str, str]:
    """The (project, id) a reference names; raise a UsageError saying how to disambiguate."""
    wanted_project = project
    ticket_id = ref
    if project is None and ":" in ref:
        head, tail = ref.split(":", 1)
        if head and tail and head in store.project_names(ledger):
            wanted_project, ticket_id = head, tail
    keys = store.find_ticket_keys(ledger, ticket_id, wanted_project)
    if not keys and wanted_project is None and ":" in ref:
        keys = store.find_ticket_keys(ledger, ref)
    if not keys:
        where = f" in project {wanted_project!r}" if wanted_project else ""
        raise TicketNotFound(f"no ticket {ticket_id!r}{where}; list them with `taskdist tickets`")
    if len(keys) > 1:
        choices = ", ".join(f"{p}:{i}" for p, i in keys[:5])
        if len({p for p, _ in keys}) == len(keys):
            raise AmbiguousTicket(
                f"{ticket_id!r} exists in {len(keys)} projects ({choices}); say PROJECT:ID or use --project"
            )
        # Ids differing only in case: the typed spelling matched none exactly.
        raise AmbiguousTicket(f"{ticket_id!r} matches {len(keys)} tickets ({choices}); type the id exactly")
    return keys[0]
