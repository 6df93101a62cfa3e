"""`taskdist queue`: every queued ticket in priority order, filtered; and scoring a whole ledger.

Scores are always computed over the whole ledger (revenue is normalized across it, dependencies
cross the filter), then filtered: a ticket's score and rank do not depend on what is displayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from taskdist.config import Config
from taskdist.errors import UsageError
from taskdist.gc_pause import paused_gc
from taskdist.ledger.agents import load_agents
from taskdist.ledger.arrays import load_ticket_arrays
from taskdist.ledger.db import Ledger
from taskdist.models import Status
from taskdist.priority import Scores, score_tickets

QUEUE_STATUSES = tuple(s.value for s in Status if not s.is_closed)


def score_ledger(ledger: Ledger, config: Config, now: datetime) -> Scores:
    """Load every ticket and the active roster, and score them (see `priority.score_tickets`)."""
    tickets = load_ticket_arrays(ledger)
    agents = load_agents(ledger)
    with paused_gc():
        return score_tickets(tickets, agents, config, now)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What `taskdist queue` shows; None means no filter on that field."""

    project: str | None = None
    status: str | None = None
    ready_only: bool = False
    assignee: str | None = None
    limit: int | None = None


@dataclass(slots=True)
class QueueReport:
    """The selected rows of `scores`, in rank order, and how many matched before `--limit`."""

    scores: Scores
    rows: npt.NDArray[np.int64]
    matched: int
    filters: QueueFilter = field(default_factory=QueueFilter)

    def blocked_by(self, k: int) -> list[str]:
        """Ids of the open prerequisites blocking ticket `k` (same project)."""
        ids = self.scores.tickets.id
        return [ids[j] for j in self.scores.graph.open_dependencies(k)]

    def dangling(self, k: int) -> list[str]:
        return list(self.scores.graph.dangling.get(k, ()))

    def cycles(self) -> list[list[str]]:
        """Every dependency cycle of the ledger as `project:id` lists."""
        t = self.scores.tickets
        return [[f"{t.project[k]}:{t.id[k]}" for k in members] for members in self.scores.graph.cycles]

    def dangling_count(self) -> int:
        return sum(len(refs) for refs in self.scores.graph.dangling.values())


def build_queue(ledger: Ledger, config: Config, now: datetime, filters: QueueFilter) -> QueueReport:
    """Score the ledger and select the queued tickets the filters ask for, best first."""
    from taskdist.ledger.tickets import project_names

    if filters.status is not None and filters.status not in QUEUE_STATUSES:
        raise UsageError(f"--status {filters.status!r}: the queue holds {', '.join(QUEUE_STATUSES)} tickets only")
    if filters.limit is not None and filters.limit < 0:
        raise UsageError("--limit must be 0 or more")
    if filters.project is not None and filters.project not in project_names(ledger):
        known = ", ".join(project_names(ledger)) or "none yet"
        raise UsageError(f"no project {filters.project!r} in the ledger (projects: {known})")
    scores = score_ledger(ledger, config, now)
    return select(scores, filters)


def select(scores: Scores, filters: QueueFilter) -> QueueReport:
    """Apply the filters to scored tickets (rank order kept)."""
    t = scores.tickets
    rows = scores.order
    keep = np.ones(len(rows), dtype=bool)
    if filters.project is not None:
        keep &= np.array([t.project[k] == filters.project for k in rows.tolist()], dtype=bool)
    if filters.status is not None:
        keep &= np.array([t.status[k] == filters.status for k in rows.tolist()], dtype=bool)
    if filters.ready_only:
        keep &= scores.ready[rows]
    if filters.assignee is not None:
        wanted = _assignee_matcher(scores, filters.assignee)
        keep &= np.array([wanted(t.assignee[k]) for k in rows.tolist()], dtype=bool)
    chosen = rows[keep]
    matched = len(chosen)
    if filters.limit is not None:
        chosen = chosen[: filters.limit]
    return QueueReport(scores, chosen, matched, filters)


def _assignee_matcher(scores: Scores, name: str) -> Callable[[str | None], bool]:
    """A test for `--assignee NAME`: the same text (any case), or the same roster agent by alias."""
    from taskdist.roster import alias_index

    index = alias_index(scores.agents)

    def norm(value: str) -> str:
        return value.lower().lstrip("@").strip()

    target = index.get(norm(name))

    def wanted(value: str | None) -> bool:
        if value is None:
            return norm(name) in ("-", "none", "unassigned")
        if norm(value) == norm(name):
            return True
        return target is not None and index.get(norm(value)) == target

    return wanted
