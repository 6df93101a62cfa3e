"""Typed records that flow between the ticket readers, the ledger and the engine.

Parsing happens at the edge: everything below the readers works with these records, never with raw
YAML. Fields a reader does not recognise are kept verbatim in `Ticket.extra` so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The small status vocabulary every spelling in the wild is folded into (the raw value is kept)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        """Closed tickets no longer block anything and are never queued or assigned."""
        return self in (Status.DONE, Status.CANCELLED)

    @property
    def is_started(self) -> bool:
        """Started work keeps its agent: the optimizer and rebalancing never move it."""
        return self in (Status.IN_PROGRESS, Status.REVIEW)


class Priority(StrEnum):
    """Priority labels; a ticket without one is `None` and scored as medium (and shown as unknown)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Kind(StrEnum):
    """What a ticket is. Epics (and projects, milestones) are containers: never queued or assigned."""

    EPIC = "epic"
    ISSUE = "issue"
    TASK = "task"
    PR = "pr"
    BUG = "bug"
    PROJECT = "project"
    MILESTONE = "milestone"
    COMMENT = "comment"

    @property
    def is_work_item(self) -> bool:
        """Only work items are ranked in the queue and assigned to agents."""
        return self in (Kind.ISSUE, Kind.TASK, Kind.PR, Kind.BUG)


@dataclass(slots=True)
class Effort:
    """An estimate normalised to hours, with where it came from; `assumed` marks the configured default."""

    hours: float
    source: str
    assumed: bool = False


@dataclass(slots=True)
class Ticket:
    """One ticket as read from its file, normalised. Identity is (project, id).

    `frontmatter` is the whole mapping as read (JSON-safe), so nothing the normalisers ignore is lost.
    """

    project: str
    id: str
    kind: Kind
    title: str
    status: Status
    status_raw: str | None = None
    priority: Priority | None = None
    priority_raw: str | None = None
    assignee: str | None = None
    assignee_raw: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    due: datetime | None = None
    closed: datetime | None = None
    estimate_hours: float = 0.0
    estimate_source: str = "default"
    estimate_assumed: bool = True
    actual_hours: float | None = None
    checklist_done: int = 0
    checklist_total: int = 0
    completion_pct: float | None = None
    skills: tuple[str, ...] = ()
    skills_source: str = "none"
    parent: str | None = None
    depends_on: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    relations: dict[str, list[str]] = field(default_factory=dict)
    business: dict[str, Any] = field(default_factory=dict)
    dialect: str = "generic"
    path: str = ""
    frontmatter: dict[str, Any] = field(default_factory=dict)
    body: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.id)


@dataclass(slots=True)
class Agent:
    """A roster entry: what the agent can do (skills 0..1) and how much work it can hold."""

    id: str
    name: str
    skills: dict[str, float]
    capacity_hours: float = 40.0
    max_tasks: int = 5
    availability: float = 1.0
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class ReadProblem:
    """A problem found while reading input: an error (file not imported) or a warning (imported, with a note)."""

    path: str
    reason: str
    line: int | None = None
    severity: str = "error"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "reason": self.reason}
