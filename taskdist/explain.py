"""`taskdist explain ID`: why a ticket has its priority, factor by factor, in numbers and in words.

Each factor line is value x weight = contribution (points of the 0-100 composite); the lines add up
to the composite exactly. Then what blocks the ticket, everything waiting on it (the whole downstream
set), and the next moment its priority changes by itself. Later modules add sections (e.g. candidate
agents) by filling `Explanation.sections`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from taskdist.config import Config
from taskdist.factors import FACTORS, LABEL_VALUE, business_signals, money
from taskdist.ledger.db import Ledger
from taskdist.lookup import resolve_ticket
from taskdist.priority import NextChange, Scores, next_change
from taskdist.queue import score_ledger

DAY = 86400.0


@dataclass(slots=True)
class FactorLine:
    """One factor of one ticket: value (0-1) x weight (share of 1) = contribution (points of 0-100)."""

    name: str
    value: float
    weight: float
    contribution: float
    inputs: str


@dataclass(slots=True)
class Explanation:
    """Everything `explain` prints about one ticket; `sections` holds parts other modules add."""

    project: str
    id: str
    title: str
    kind: str
    status: str
    label: str | None
    assignee: str | None
    due: str | None
    queued: bool
    ready: bool
    rank: int | None
    queue_size: int
    composite: float
    factors: list[FactorLine]
    blocked_by: list[str]
    dangling: list[str]
    cycles: list[list[str]]
    unblocks: list[str]
    next_change: NextChange | None
    flags: list[str]
    notes: list[str] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)


def explain_ticket(ledger: Ledger, config: Config, now: datetime, ref: str, project: str | None = None) -> Explanation:
    """Resolve `ref` (ID, PROJECT:ID, or ID with --project) and explain its priority."""
    key = resolve_ticket(ledger, ref, project)
    scores = score_ledger(ledger, config, now)
    t = scores.tickets
    k = next(i for i in range(len(t)) if t.project[i] == key[0] and t.id[i] == key[1])
    explanation = explain_row(scores, k, config)
    # Hook of the assignment side: the candidate agents section (taskdist/candidates.py).
    from taskdist.candidates import add_candidates

    add_candidates(ledger, scores, k, config, explanation)
    return explanation


def explain_row(scores: Scores, k: int, config: Config) -> Explanation:
    """The explanation of row `k` of already computed scores."""
    t = scores.tickets
    graph = scores.graph
    lines = [
        FactorLine(
            name=name,
            value=float(scores.factors[k, f]),
            weight=float(scores.weights[f]),
            contribution=float(scores.contributions[k, f]),
            inputs=_WORDS[name](scores, k, config),
        )
        for f, name in enumerate(FACTORS)
    ]
    notes = []
    if not scores.queued[k]:
        if t.closed[k]:
            notes.append(f"not queued: it is {t.status[k]}")
        elif not t.work_item[k]:
            notes.append(f"not queued: a {t.kind[k]} is a container; its child tickets are queued")
        elif t.missing[k]:
            notes.append("not queued: its file is gone (this is the last version read)")
    elif not scores.ready[k]:
        if graph.blocked[k]:
            notes.append("blocked: not assignable until the tickets under 'blocked by' are closed")
        if t.status_blocked[k]:
            notes.append("blocked: its file says status blocked")
    cycles = [[f"{t.project[m]}:{t.id[m]}" for m in members] for members in graph.cycles if k in members]
    if cycles:
        notes.append("in a dependency cycle: no order can finish it until the cycle is broken in the files")
    if graph.dangling.get(k):
        notes.append("dangling references name no ticket of the project; they are shown but do not block")
    notes.extend(scores.notes)
    return Explanation(
        project=t.project[k],
        id=t.id[k],
        title=t.title[k],
        kind=t.kind[k],
        status=t.status[k],
        label=t.label[k],
        assignee=t.assignee[k],
        due=t.due_text[k],
        queued=bool(scores.queued[k]),
        ready=bool(scores.ready[k]),
        rank=int(scores.rank[k]) if scores.queued[k] else None,
        queue_size=len(scores.order),
        composite=float(scores.composite[k]),
        factors=lines,
        blocked_by=[t.id[j] for j in graph.open_dependencies(k)],
        dangling=list(graph.dangling.get(k, ())),
        cycles=cycles,
        unblocks=[t.id[j] for j in graph.downstream(k)],
        next_change=next_change(scores, k, config),
        flags=scores.flags(k),
        notes=notes,
    )


def _hours(value: float) -> str:
    return f"{value:.1f} h" if value != int(value) else f"{value:.0f} h"


def _urgency_words(scores: Scores, k: int, config: Config) -> str:
    u = scores.urgency
    t = scores.tickets
    parts = []
    left = f"{_hours(float(u.remaining_hours[k]))} of work left"
    if not math.isnan(t.due[k]):
        days = (t.due[k] - scores.now.timestamp()) / DAY
        when = f"due in {days:.1f} days" if days >= 0 else f"overdue by {-days:.1f} days"
        slack = float(u.slack_days[k])
        verdict = "" if slack > 0 or days < 0 else " (cannot finish in time)"
        parts.append(
            f"{when}, {left} at {config.effort.hours_per_day:g} h a day, slack {slack:.1f} days{verdict}: "
            f"deadline step {u.deadline[k]:.3f}"
        )
    else:
        parts.append(f"no due date, {left}")
    if not math.isnan(t.created[k]):
        parts.append(f"age {u.age_days[k]:.0f} days: age step {u.age_part[k]:.3f} (cap {config.priority.age_cap:g})")
    else:
        parts.append("no creation date: age adds nothing")
    if not math.isnan(t.due[k]):
        parts.append("the higher step counts")
    return "; ".join(parts)


def _business_words(scores: Scores, k: int, config: Config) -> str:
    t = scores.tickets
    level = int(t.priority_level[k])
    label = t.label[k] or "none (scored as medium)"
    parts = [f"priority {label} = {LABEL_VALUE[level]:.2f}, counted x{config.priority.label_weight:g}"]
    for name, raw, value in business_signals(t.business[k]):
        parts.append(f"{name} {raw!r} = {value:.2f}" if value is not None else f"{name} {raw!r} not recognised")
    if len(parts) == 1:
        parts.append("no client tier, strategic importance or stakeholder priority given")
    return "; ".join(parts)


def _efficiency_words(scores: Scores, k: int, config: Config) -> str:
    _ = config
    e = scores.efficiency
    if not scores.agents:
        return "no roster imported: no agent to do it"
    needs = ", ".join(e.required[k]) if e.required[k] else "no named skill (anyone can do it)"
    t = scores.tickets
    ignored = [s for s in t.skills[k] if s not in e.required[k]]
    words = f"needs {needs}"
    if ignored:
        words += f" (tags that are no roster skill ignored: {', '.join(ignored)})"
    capable, free = int(e.capable[k]), int(e.free[k])
    if capable == 0:
        return f"{words}; capability gap: no agent reaches {scores.min_match:.0%} coverage"
    return (
        f"{words}; {capable} agent{'s reach' if capable != 1 else ' reaches'} {scores.min_match:.0%} coverage, "
        f"{free} with free capacity; readiness {e.readiness[k]:.2f} agent-equivalents"
    )


def _revenue_words(scores: Scores, k: int, config: Config) -> str:
    t = scores.tickets
    net = money(t.business[k], config.priority)
    if net is None:
        return "no revenue, pipeline, margin or cost given"
    facts = ", ".join(
        f"{key} {t.business[k][key]:,.0f}" if t.business[k][key] > 1 else f"{key} {t.business[k][key]:g}"
        for key in ("revenue_potential", "revenue", "pipeline_value", "deal_value", "margin", "cost")
        if isinstance(t.business[k].get(key), (int, float))
    )
    nets = scores.revenue_net[scores.queued]
    top = float(np.nanmax(nets, initial=0.0)) if len(nets) else 0.0
    return f"{facts}: net {net:,.0f}; largest net in the ledger's queue {top:,.0f} (log scale)"


def _dependency_words(scores: Scores, k: int, config: Config) -> str:
    count = int(scores.downstream_count[k])
    if count == 0:
        return "unblocks nothing"
    hours = float(scores.downstream_hours[k])
    return (
        f"unblocks {count} ticket{'s' if count != 1 else ''} (directly or transitively), "
        f"{_hours(hours)} of work; scale {config.priority.dependency_scale_hours:g} h"
    )


_WORDS = {
    "urgency": _urgency_words,
    "business_impact": _business_words,
    "resource_efficiency": _efficiency_words,
    "revenue": _revenue_words,
    "dependency": _dependency_words,
}
