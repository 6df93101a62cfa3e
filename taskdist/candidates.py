"""The candidate agents of one ticket, for `taskdist explain`: each agent's compatibility parts and
whether it is eligible now, or why not; and which one the ticket would go to on its own.

The optimizer may still give the ticket to another eligible agent when the best one's room serves
higher-value tickets better: `taskdist assign` shows the plan and each decision's runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from taskdist.config import Config
from taskdist.ledger import assignments as store
from taskdist.ledger.db import Ledger
from taskdist.matching import why_not
from taskdist.planning import VALUE_FLOOR, Context, context_from, load_context
from taskdist.priority import Scores

SHOWN = 10  # agents in the table; JSON has them all


@dataclass(slots=True)
class CandidateRow:
    agent: str
    compatibility: float
    value: float
    parts: dict[str, float]
    eligible: bool
    why_not: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "eligible": self.eligible,
            "why_not": self.why_not,
            "compatibility": round(self.compatibility, 6),
            "value": round(self.value, 6),
            "parts": {k: round(v, 6) for k, v in self.parts.items()},
        }


@dataclass(slots=True)
class Candidates:
    project: str
    ticket: str
    rows: list[CandidateRow]
    eligible: int
    best: str | None
    verdict: str
    limit: int = SHOWN
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "best": self.best,
            "verdict": self.verdict,
            "agents": [r.as_dict() for r in self.rows],
        }


def candidate_agents(ctx: Context, k: int) -> Candidates:
    """Every active agent for ticket row `k`: eligible ones first (best value first), then the others."""
    t = ctx.scores.tickets
    state = ctx.state
    u = int(ctx.which[k])
    hours = float(ctx.hours[k])
    priority = float(ctx.scores.composite[k])
    total = ctx.compat.total[u] if len(state) else np.zeros(0)
    rows = []
    for a, agent in enumerate(state.agents):
        reason = why_not(ctx.compat, u, a, hours)
        rows.append(
            CandidateRow(
                agent=agent.id,
                compatibility=float(total[a]),
                value=max(priority, VALUE_FLOOR) * float(total[a]),
                parts=ctx.compat.parts(u, a),
                eligible=reason is None,
                why_not=reason,
            )
        )
    rows.sort(key=lambda r: (not r.eligible, -round(r.value, 12), r.agent))
    eligible = [r for r in rows if r.eligible]
    best = eligible[0].agent if eligible else None
    holder = t.assignee[k]
    if not state.agents:
        verdict = "no roster imported: import one with `taskdist import --roster ROSTER.yaml`"
    elif holder is not None:
        verdict = f"held by {holder}: `assign` keeps it there (rebalancing may move not-started work)"
    elif t.status[k] in ("in_progress", "review"):
        verdict = f"{t.status[k]}: started work is not re-planned"
    elif not ctx.scores.queued[k]:
        verdict = "not queued: no agent is chosen for it"
    elif not ctx.scores.ready[k]:
        verdict = "blocked: no agent is chosen until it is ready"
    elif not eligible and ctx.compat.capable[u].any():
        verdict = "no capacity: the agents with the skills have no room for it now (see why not)"
    elif not eligible:
        verdict = f"no eligible agent: nobody available reaches the {ctx.compat.min_match:.0%} skill match"
    else:
        top = eligible[0]
        verdict = (
            f"best on its own: {top.agent}, value {top.value:.2f} = priority {priority:.1f} x compatibility "
            f"{top.compatibility:.2f}"
        )
        if len(eligible) > 1:
            verdict += f", ahead of {eligible[1].agent} by {top.value - eligible[1].value:.3f}"
        verdict += "; `taskdist assign` shows where the plan puts it"
    return Candidates(t.project[k], t.id[k], rows, len(eligible), best, verdict)


def add_candidates(ledger: Ledger, scores: Scores, k: int, config: Config, explanation: Any) -> None:
    """The `explain` hook: put this ticket's candidate agents into `explanation.sections["candidates"]`."""
    ctx = context_from(scores, store.outcome_records(ledger), config, scores.now)
    explanation.sections["candidates"] = candidate_agents(ctx, k)


def candidates_for(ledger: Ledger, config: Config, now: datetime, project: str, ticket: str) -> Candidates:
    """Candidate agents of one ticket, scoring the ledger first (when no scores are at hand)."""
    ctx = load_context(ledger, config, now)
    k = ctx.row(project, ticket)
    if k is None:
        from taskdist.errors import TicketNotFound

        raise TicketNotFound(f"no ticket {project}:{ticket}")
    return candidate_agents(ctx, k)
