"""Outcome commands: `start`, `done`, `fail`. Each is one event and the ledger's view of the status.

Precedence (docs/status.md): the ticket file says what a ticket is; the ledger records decisions and
history. An outcome sets the ledger's status (started -> in_progress, done -> done, failed -> open,
ready for another agent) and remembers what the file said at that moment. A re-import of a file whose
status is unchanged keeps the outcome's status; once the file's status changes after the outcome, the
file wins again. `--write-back` also puts the new status into the file (that value's bytes only), so
file and ledger agree.

The event's agent is the ticket's holder (roster id when the assignee resolves to one, else the name
as written); `done` carries the actual hours the learning of agent figures reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from taskdist.config import Config
from taskdist.errors import UsageError, WriteBackRefused
from taskdist.ledger import status as store
from taskdist.ledger.agents import load_agents
from taskdist.ledger.db import Ledger
from taskdist.lookup import resolve_ticket
from taskdist.timestamps import format_datetime

OUTCOME_STATUS = {"started": "in_progress", "done": "done", "failed": "open"}
# What each outcome may follow: never a closed ticket (reopen it in its file first).
REFUSED_FROM = {"started": ("done", "cancelled"), "done": ("cancelled",), "failed": ("done", "cancelled")}
# The spelling written back for each status; the tools that write dialects A-C say "completed".
FILE_SPELLING = {"done": "completed", "in_progress": "in_progress", "open": "open"}


@dataclass(slots=True)
class OutcomeResult:
    project: str
    ticket: str
    kind: str
    agent: str | None
    status_before: str
    status_after: str
    recorded: bool
    wrote_file: str | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "ticket": self.ticket,
            "outcome": self.kind,
            "agent": self.agent,
            "status_before": self.status_before,
            "status": self.status_after,
            "recorded": self.recorded,
            "wrote_file": self.wrote_file,
            "note": self.note,
            **self.data,
        }


def holder(ledger: Ledger, assignee: str | None) -> str | None:
    """The agent an outcome is recorded for: the roster id the assignee resolves to, else as written."""
    from taskdist.roster import alias_index

    if assignee is None:
        return None
    index = alias_index(load_agents(ledger, include_inactive=True))
    return index.get(assignee.lower().lstrip("@").strip(), assignee)


def record_outcome(
    ledger: Ledger,
    config: Config,
    now: datetime,
    ref: str,
    kind: str,
    *,
    project: str | None = None,
    actual_hours: float | None = None,
    reason: str | None = None,
    write_back: bool = False,
) -> OutcomeResult:
    """Record `kind` (started, done, failed) for the ticket `ref` in one write transaction."""
    if kind not in OUTCOME_STATUS:
        raise UsageError(f"unknown outcome {kind!r}")
    if actual_hours is not None and not actual_hours > 0:
        raise UsageError("--actual-hours must be a number of hours above 0")
    if kind == "failed" and not (reason or "").strip():
        raise UsageError("--reason must say why the ticket failed (it goes into the ledger and the escalation)")
    with ledger.writing(kind, now, config.digest):
        key = resolve_ticket(ledger, ref, project)
        state = store.ticket_state(ledger, *key)
        assert state is not None
        after = OUTCOME_STATUS[kind]
        agent = holder(ledger, state.assignee)
        result = OutcomeResult(key[0], key[1], kind, agent, state.status, after, recorded=False)
        if state.status in REFUSED_FROM[kind]:
            raise UsageError(
                f"{key[0]}:{key[1]} is {state.status}; a closed ticket cannot be {kind}. "
                "Reopen it in its file (and re-import) first"
            )
        if kind != "failed" and state.status == after:
            result.note = f"already {after}; nothing recorded"
            return result
        data: dict[str, Any] = {"status": [state.status, after]}
        if kind == "done":
            data["estimate_hours"] = state.estimate_hours
            data["estimate_assumed"] = state.estimate_assumed
            if actual_hours is not None:
                data["actual_hours"] = actual_hours
        if kind == "failed":
            data["reason"] = (reason or "").strip()
        store.set_outcome_status(ledger, state, after, kind, format_datetime(now) or "")
        ledger.add_event(now, kind, project=key[0], ticket=key[1], agent=agent, data=data)
        result.recorded = True
        result.data = {k: v for k, v in data.items() if k != "status"}
        if write_back:
            result.wrote_file = _write_back(ledger, state, after, now)
    return result


def _write_back(ledger: Ledger, state: store.TicketState, status: str, now: datetime) -> str:
    """Put `status` into the ticket file (only that value's bytes), refusing a file changed since import."""
    from taskdist.tickets.writeback import set_scalar

    if state.missing or not state.path:
        raise WriteBackRefused(f"{state.project}:{state.id}: its file is gone; nothing was written (run `import`)")
    path = Path(state.path)
    spelling = FILE_SPELLING.get(status, status)
    new_hash = set_scalar(path, "status", spelling, expected_hash=state.content_hash)
    store.record_file_status(ledger, state.project, state.id, status, new_hash)
    ledger.add_event(
        now, "written_back", project=state.project, ticket=state.id, data={"field": "status", "value": spelling}
    )
    return str(path)
