"""`taskdist next AGENT [--claim]`: the single best ready ticket for one agent, and taking it.

Best: the highest priority x compatibility among the ready tickets nobody holds that the agent is
eligible for (skill match, availability, a free slot and the hours); ties go to the higher priority,
then to (project, id). `--claim` finds and records it inside one write transaction that holds the
ledger's write lock from before the first read, so two claimers are served one after the other and
the second sees the first's claim: concurrent claimers never receive the same ticket (the ledger's
unique index on active assignments would refuse it even if they did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from taskdist.config import Config
from taskdist.errors import UsageError
from taskdist.ledger.db import Ledger
from taskdist.planning import VALUE_FLOOR, Context, load_context, plannable


@dataclass(slots=True)
class NextTicket:
    """The answer of `next`: a ticket (and whether it was claimed), or none and why."""

    agent: str
    project: str | None = None
    ticket: str | None = None
    title: str | None = None
    priority: float = 0.0
    compatibility: float = 0.0
    value: float = 0.0
    hours: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    candidates: int = 0
    claimed: bool = False
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.ticket is None:
            return {"ticket": None, "reason": self.reason, "agent": self.agent, "claimed": False}
        return {
            "project": self.project,
            "ticket": self.ticket,
            "agent": self.agent,
            "title": self.title,
            "priority": round(self.priority, 6),
            "compatibility": round(self.compatibility, 6),
            "value": round(self.value, 6),
            "hours": round(self.hours, 6),
            "parts": {k: round(v, 6) for k, v in self.parts.items()},
            "candidates": self.candidates,
            "claimed": self.claimed,
        }


def resolve_agent(ctx: Context, ref: str) -> int:
    """The roster position of an agent named by id, name or alias (any case, `@` optional)."""
    from taskdist.roster import alias_index

    if not ctx.state.agents:
        raise UsageError("no roster imported: run `taskdist import --roster ROSTER.yaml` first")
    agent_id = alias_index(ctx.state.agents).get(ref.lower().lstrip("@").strip())
    if agent_id is None:
        known = ", ".join(a.id for a in ctx.state.agents[:8]) + (", ..." if len(ctx.state.agents) > 8 else "")
        raise UsageError(f"no agent {ref!r} in the roster (agents: {known}); list them with `taskdist agents`")
    return next(k for k, a in enumerate(ctx.state.agents) if a.id == agent_id)


def best_for(ctx: Context, a: int, project: str | None = None) -> NextTicket:
    """The best ready ticket for agent `a` (see the module docstring)."""
    state = ctx.state
    agent = state.agents[a]
    result = NextTicket(agent=agent.id)
    rows = np.nonzero(plannable(ctx, project))[0]
    if not state.available[a]:
        result.reason = f"{agent.id} is away (availability 0)"
        return result
    if state.room_tasks[a] < 1:
        result.reason = f"{agent.id} holds {int(state.held_tasks[a])} tickets, its limit (max_tasks {agent.max_tasks})"
        return result
    if not len(rows):
        result.reason = "no ready ticket is waiting" + (f" in project {project}" if project else "")
        return result
    capable = ctx.compat.capable[ctx.which[rows], a]
    fits = capable & (ctx.hours[rows] <= state.room_hours[a] + 1e-9)
    if not fits.any():
        if capable.any():
            result.reason = (
                f"{agent.id} has {state.room_hours[a]:.1f} h of room left; the ready tickets it could do need more"
            )
        else:
            result.reason = f"no ready ticket matches {agent.id}'s skills (min match {ctx.compat.min_match:.0%})"
        return result
    chosen = rows[fits]
    compat = ctx.compat.total[ctx.which[chosen], a]
    priority = ctx.scores.composite[chosen]
    value = np.maximum(priority, VALUE_FLOOR) * compat
    t = ctx.scores.tickets
    best = min(
        range(len(chosen)), key=lambda q: (-round(value[q], 12), -priority[q], t.project[chosen[q]], t.id[chosen[q]])
    )
    k = int(chosen[best])
    result.project, result.ticket, result.title = t.project[k], t.id[k], t.title[k]
    result.priority, result.compatibility, result.value = float(priority[best]), float(compat[best]), float(value[best])
    result.hours = float(ctx.hours[k])
    result.parts = ctx.compat.parts(int(ctx.which[k]), a)
    result.candidates = len(chosen)
    return result


def run_next(
    ledger: Ledger, config: Config, now: datetime, agent_ref: str, *, claim: bool = False, project: str | None = None
) -> NextTicket:
    """The `next` command: look, or (with `claim`) take the ticket in one write transaction."""
    if not claim:
        ctx = load_context(ledger, config, now)
        return best_for(ctx, resolve_agent(ctx, agent_ref), project)
    from taskdist.ledger import assignments as store
    from taskdist.timestamps import format_datetime

    with ledger.writing("claim", now, config.digest):
        ctx = load_context(ledger, config, now)
        found = best_for(ctx, resolve_agent(ctx, agent_ref), project)
        if found.ticket is None or found.project is None:
            return found
        decision = store.NewAssignment(
            project=found.project,
            ticket=found.ticket,
            agent=found.agent,
            state="claimed",
            strategy="next",
            value=found.value,
            priority=found.priority,
            compatibility=found.compatibility,
            runner_up=None,
            runner_up_loss=None,
            explanation={"parts": found.parts, "candidates": found.candidates},
        )
        store.record_assignments(ledger, [decision], format_datetime(now) or "")
        ledger.add_event(
            now,
            "claimed",
            project=found.project,
            ticket=found.ticket,
            agent=found.agent,
            data={"value": round(found.value, 6), "priority": round(found.priority, 6)},
        )
        found.claimed = True
    return found
