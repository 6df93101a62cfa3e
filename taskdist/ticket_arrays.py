"""Tickets as columns: the narrow slice of every ticket the priority engine reads, one array per field.

The engine scores 100,000 tickets at once, so it works on numpy arrays and plain lists instead of
`Ticket` objects. `ledger/arrays.py` fills this straight from SQL; `from_tickets` builds it from
records (tests, and callers that already hold tickets). Row order is (project, id), which is also
the final tie-break of the queue, so the same ledger always gives the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.models import Kind, Priority, Status, Ticket

WORK_KINDS = frozenset(k.value for k in Kind if k.is_work_item)
CLOSED_STATUSES = frozenset(s.value for s in Status if s.is_closed)
PRIORITY_LEVEL = {Priority.LOW.value: 0, Priority.MEDIUM.value: 1, Priority.HIGH.value: 2, Priority.CRITICAL.value: 3}


@dataclass(slots=True)
class TicketArrays:
    """Column `k` of every field is ticket `k`. Times are POSIX seconds (NaN when absent)."""

    project: list[str]
    id: list[str]
    title: list[str]
    kind: list[str]
    status: list[str]
    label: list[str | None]
    assignee: list[str | None]
    due_text: list[str | None]
    work_item: npt.NDArray[np.bool_]
    closed: npt.NDArray[np.bool_]
    status_blocked: npt.NDArray[np.bool_]
    missing: npt.NDArray[np.bool_]
    priority_level: npt.NDArray[np.int8]  # -1 no label (scored as medium), 0 low .. 3 critical
    created: npt.NDArray[np.float64]  # created, else updated: the start of a ticket's age
    due: npt.NDArray[np.float64]
    estimate_hours: npt.NDArray[np.float64]
    estimate_assumed: npt.NDArray[np.bool_]
    completion: npt.NDArray[np.float64]  # 0..1 from completion_percentage, else the checklist
    skills: list[tuple[str, ...]]
    skills_explicit: npt.NDArray[np.bool_]
    depends_on: list[tuple[str, ...]]
    blocks: list[tuple[str, ...]]
    business: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.id)

    def key(self, i: int) -> tuple[str, str]:
        return (self.project[i], self.id[i])

    @classmethod
    def from_tickets(cls, tickets: Sequence[Ticket], missing: Sequence[bool] | None = None) -> TicketArrays:
        """Columns from ticket records, sorted by (project, id)."""
        ordered = sorted(range(len(tickets)), key=lambda k: tickets[k].key)
        rows = [tickets[k] for k in ordered]
        flags = [bool(missing[k]) for k in ordered] if missing is not None else [False] * len(rows)
        return cls(
            project=[t.project for t in rows],
            id=[t.id for t in rows],
            title=[t.title for t in rows],
            kind=[t.kind.value for t in rows],
            status=[t.status.value for t in rows],
            label=[t.priority.value if t.priority else None for t in rows],
            assignee=[t.assignee for t in rows],
            due_text=[_stamp(t.due) for t in rows],
            work_item=np.array([t.kind.is_work_item for t in rows], dtype=bool),
            closed=np.array([t.status.is_closed for t in rows], dtype=bool),
            status_blocked=np.array([t.status is Status.BLOCKED for t in rows], dtype=bool),
            missing=np.array(flags, dtype=bool),
            priority_level=np.array(
                [PRIORITY_LEVEL[t.priority.value] if t.priority else -1 for t in rows], dtype=np.int8
            ),
            created=np.array([_seconds(t.created or t.updated) for t in rows], dtype=np.float64),
            due=np.array([_seconds(t.due) for t in rows], dtype=np.float64),
            estimate_hours=np.array([t.estimate_hours for t in rows], dtype=np.float64),
            estimate_assumed=np.array([t.estimate_assumed for t in rows], dtype=bool),
            completion=completion_fraction(
                [t.completion_pct for t in rows], [t.checklist_done for t in rows], [t.checklist_total for t in rows]
            ),
            skills=[tuple(t.skills) for t in rows],
            skills_explicit=np.array([t.skills_source == "explicit" for t in rows], dtype=bool),
            depends_on=[tuple(t.depends_on) for t in rows],
            blocks=[tuple(t.blocks) for t in rows],
            business=[dict(t.business) for t in rows],
        )


def completion_fraction(
    percent: Sequence[float | None], done: Sequence[int], total: Sequence[int]
) -> npt.NDArray[np.float64]:
    """How much of each ticket is done, 0..1: `completion_percentage` when given, else checked boxes."""
    pct = np.array(percent, dtype=np.float64)
    done_a = np.asarray(done, dtype=np.float64)
    total_a = np.asarray(total, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        boxes = np.where(total_a > 0, done_a / np.where(total_a > 0, total_a, 1.0), 0.0)
    fraction = np.where(np.isnan(pct), boxes, pct / 100.0)
    return np.asarray(np.clip(np.nan_to_num(fraction, nan=0.0), 0.0, 1.0), dtype=np.float64)


def _seconds(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("nan")


def _stamp(value: datetime | None) -> str | None:
    from taskdist.timestamps import format_datetime

    return format_datetime(value)
