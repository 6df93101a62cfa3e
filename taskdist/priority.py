"""The priority engine: five factors for every ticket at once, their weighted composite, and the rank.

composite = 100 x sum_i(share_i x factor_i), share_i = weight_i / sum(weights), so it is on 0-100
whatever the configured weights add up to, and the contributions 100 x share_i x factor_i add up to
it exactly (the composite is computed as that sum). Only queued tickets are ranked: open work items
(issues, tasks, PRs, bugs) whose file still exists. Epics, projects, milestones and comments are
containers and closed tickets are history; both still take part in the dependency graph.

Rank: composite rounded to 1e-9 (so float noise never reorders equals), highest first, then
(project, id). `score_tickets` is the public entry point for other modules (assignment, status):
it returns the `Scores` arrays, with `ready` saying which tickets may be assigned now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from taskdist.config import Config
from taskdist.errors import ConfigError
from taskdist.factors import (
    FACTORS,
    Efficiency,
    Urgency,
    agent_room,
    business_impact,
    dependency,
    remaining_hours,
    resource_efficiency,
    revenue,
    urgency,
    urgency_change_candidates,
)
from taskdist.graph import DependencyGraph, build_graph
from taskdist.models import Agent
from taskdist.ticket_arrays import TicketArrays

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_MIN_MATCH = 0.8
# What the queue marks a ticket with, in the order shown.
FLAGS = (
    "cycle",
    "dangling",
    "capability gap",
    "no free agent",
    "status blocked",
    "overdue",
    "cannot finish in time",
    "estimate assumed",
)


@dataclass(slots=True)
class Scores:
    """Everything the engine computed, row `k` being ticket `k` of `tickets`.

    `factors` and `contributions` are (n, 5) in the order of `FACTORS`; `composite` is 0-100;
    `rank` is 1.. for queued tickets (0 otherwise) and `order` lists the queued rows by rank.
    """

    tickets: TicketArrays
    graph: DependencyGraph
    now: datetime
    weights: FloatArray
    factors: FloatArray
    contributions: FloatArray
    composite: FloatArray
    queued: BoolArray
    ready: BoolArray
    rank: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]
    urgency: Urgency
    efficiency: Efficiency
    revenue_net: FloatArray
    downstream_hours: FloatArray
    downstream_count: FloatArray
    dependency_exact: bool
    agents: list[Agent]
    agent_load_hours: FloatArray
    agent_load_tasks: npt.NDArray[np.int64]
    min_match: float
    notes: list[str] = field(default_factory=list)
    _masks: dict[str, BoolArray] | None = None

    def __len__(self) -> int:
        return len(self.tickets)

    @property
    def capability_gap(self) -> BoolArray:
        """Queued tickets no agent of the roster can do (none reaches min_match); empty roster: none."""
        return self.flag_masks()["capability gap"]

    @property
    def no_room(self) -> BoolArray:
        """Queued tickets some agent could do, but none of them has free capacity now."""
        return self.flag_masks()["no free agent"]

    def flag_masks(self) -> dict[str, BoolArray]:
        """Each flag of `FLAGS` as a mask over all tickets (computed once, then kept)."""
        if self._masks is None:
            t = self.tickets
            dangling = np.zeros(len(t), dtype=bool)
            dangling[list(self.graph.dangling)] = True
            has_due = ~np.isnan(t.due)
            with np.errstate(invalid="ignore"):
                overdue = has_due & (t.due <= self.now.timestamp())
                late = has_due & ~overdue & (self.urgency.slack_days <= 0)
            capable = self.efficiency.capable
            gap = self.queued & (capable == 0) if self.agents else np.zeros(len(t), dtype=bool)
            masks = {
                "cycle": self.graph.in_cycle,
                "dangling": dangling,
                "capability gap": gap,
                "no free agent": self.queued & (capable > 0) & (self.efficiency.free == 0),
                "status blocked": t.status_blocked,
                "overdue": overdue,
                "cannot finish in time": late,
                "estimate assumed": t.estimate_assumed,
            }
            self._masks = {name: np.asarray(masks[name], dtype=bool) for name in FLAGS}
        return self._masks

    def flags(self, k: int) -> list[str]:
        """Short markers for what a person should look at (see `FLAGS`), in that order."""
        return [name for name, mask in self.flag_masks().items() if mask[k]]


def min_match_of(config: Config) -> float:
    """The eligibility threshold of the matching section when it exists, else the design's 0.8."""
    section = getattr(config, "matching", None)
    value = getattr(section, "min_match", None)
    return float(value) if isinstance(value, (int, float)) else DEFAULT_MIN_MATCH


def weight_shares(config: Config) -> FloatArray:
    """The configured weights scaled to sum to 1 (the composite's 0-100 scale does not depend on them)."""
    raw = np.array([getattr(config.weights, name) for name in FACTORS], dtype=np.float64)
    total = float(raw.sum())
    if not total > 0:
        raise ConfigError("weights must not all be 0: set at least one of weights.* in taskdist.yaml above 0")
    return np.asarray(raw / total, dtype=np.float64)


def agent_load(
    tickets: TicketArrays, remaining: FloatArray, agents: Sequence[Agent]
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Hours and tickets each agent holds now: open work items assigned to it (by id, name or alias)."""
    from taskdist.roster import alias_index

    index = alias_index(list(agents))
    position = {a.id: k for k, a in enumerate(agents)}
    owner_of = dict.fromkeys(set(tickets.assignee), -1)
    for name in owner_of:
        if name is not None:
            agent_id = index.get(name.lower().lstrip("@").strip())
            owner_of[name] = position[agent_id] if agent_id is not None else -1
    owner = np.array(list(map(owner_of.__getitem__, tickets.assignee)), dtype=np.int64)
    held = (owner >= 0) & ~tickets.closed & tickets.work_item & ~tickets.missing
    hours = np.bincount(owner[held], weights=remaining[held], minlength=len(agents)).astype(np.float64)
    count = np.bincount(owner[held], minlength=len(agents)).astype(np.int64)
    return hours, count


def score_tickets(
    tickets: TicketArrays,
    agents: Sequence[Agent],
    config: Config,
    now: datetime,
    graph: DependencyGraph | None = None,
) -> Scores:
    """Score every ticket: the five factors, the composite (0-100), ready/blocked and the rank."""
    n = len(tickets)
    cfg = config.priority
    agents = list(agents)
    if graph is None:
        graph = build_graph(tickets.project, tickets.id, tickets.depends_on, tickets.blocks, tickets.closed)
    now_s = now.timestamp()
    queued = tickets.work_item & ~tickets.closed & ~tickets.missing
    ready = queued & ~graph.blocked & ~tickets.status_blocked
    remaining = remaining_hours(tickets.estimate_hours, tickets.completion)

    urgent = urgency(tickets.due, tickets.created, remaining, now_s, cfg, config.effort.hours_per_day)
    impact = business_impact(tickets.priority_level, tickets.business, cfg)
    load_hours, load_tasks = agent_load(tickets, remaining, agents)
    room = agent_room(agents, load_hours, load_tasks) if agents else np.zeros(0, dtype=np.float64)
    min_match = min_match_of(config)
    efficiency = resource_efficiency(tickets.skills, tickets.skills_explicit, agents, room, min_match, cfg)
    money, net = revenue(tickets.business, queued, cfg)
    waiting = np.where(tickets.work_item & ~tickets.missing, 1.0, 0.0)
    hours_weight = np.where(waiting > 0, np.maximum(remaining, cfg.dependency_min_hours), 0.0)
    (down_hours, down_count), exact = graph.downstream_totals([hours_weight, waiting])
    unblocking = dependency(down_hours, cfg)

    factors = np.column_stack([urgent.value, impact, efficiency.value, money, unblocking]).astype(np.float64)
    shares = weight_shares(config)
    contributions = 100.0 * factors * shares[None, :]
    composite = contributions[:, 0] + contributions[:, 1] + contributions[:, 2] + contributions[:, 3]
    composite = composite + contributions[:, 4]

    rows = np.nonzero(queued)[0]
    keyed = np.round(composite[rows], 9)
    order = rows[np.lexsort((rows, -keyed))]
    rank = np.zeros(n, dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)

    notes = []
    if not agents:
        notes.append("no roster imported: resource efficiency is 0 for every ticket (import with --roster)")
    if not exact:
        notes.append("dependency graph too large for exact downstream sums: counted once per path instead")
    return Scores(
        tickets=tickets,
        graph=graph,
        now=now,
        weights=shares,
        factors=factors,
        contributions=contributions,
        composite=composite,
        queued=queued,
        ready=ready,
        rank=rank,
        order=order.astype(np.int64),
        urgency=urgent,
        efficiency=efficiency,
        revenue_net=net,
        downstream_hours=down_hours,
        downstream_count=down_count,
        dependency_exact=exact,
        agents=agents,
        agent_load_hours=load_hours,
        agent_load_tasks=load_tasks,
        min_match=min_match,
        notes=notes,
    )


@dataclass(frozen=True, slots=True)
class NextChange:
    """The next moment a ticket's urgency (hence its priority) steps up with nothing else changing."""

    at: datetime
    urgency_before: float
    urgency_after: float
    reason: str


def next_change(scores: Scores, k: int, config: Config) -> NextChange | None:
    """When ticket `k`'s priority next changes on its own: the next urgency step (None if none left).

    Urgency is a step function of time (see `factors.urgency`), so between steps the priority is
    constant and a recalculation is only needed at these moments.
    """
    t = scores.tickets
    cfg = config.priority
    hours_per_day = config.effort.hours_per_day
    now = scores.now.timestamp()
    before = float(scores.urgency.value[k])
    one = np.ones(1, dtype=np.float64)

    def at(moment: float) -> Urgency:
        return urgency(
            t.due[k] * one, t.created[k] * one, scores.urgency.remaining_hours[k] * one, moment, cfg, hours_per_day
        )

    due, created, remaining = float(t.due[k]), float(t.created[k]), float(scores.urgency.remaining_hours[k])
    for moment in urgency_change_candidates(due, created, remaining, now, cfg, hours_per_day):
        # Whole seconds: the ledger's clock resolution; step past float rounding at the edge.
        for second in (math.ceil(moment), math.ceil(moment) + 1):
            later = at(float(second))
            after = float(later.value[0])
            if after > before:
                return NextChange(datetime.fromtimestamp(second, UTC), before, after, _change_reason(later, before))
    return None


def _change_reason(later: Urgency, before: float) -> str:
    if later.deadline[0] > before and later.deadline[0] >= later.age_part[0]:
        slack = float(later.slack_days[0])
        if slack <= 0:
            return "slack reaches 0: the work left no longer fits before the due date"
        return f"slack falls to {_days(slack)}"
    return f"age reaches {_days(float(later.age_days[0]))}"


def _days(value: float) -> str:
    return f"{value:.1f} days" if abs(value) != 1 else f"{value:.0f} day"
