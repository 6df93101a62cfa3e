"""Builders shared by the priority tests: tickets, agents and hypothesis strategies for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from taskdist.config import Config, WeightsConfig
from taskdist.models import Agent, Kind, Priority, Status, Ticket
from taskdist.priority import Scores, score_tickets
from taskdist.ticket_arrays import TicketArrays
from tests.conftest import NOW


def ticket(ticket_id: str, **fields: Any) -> Ticket:
    """An open task created 10 days before NOW with 8 h of estimated work, unless told otherwise."""
    base: dict[str, Any] = {
        "project": "p",
        "id": ticket_id,
        "kind": Kind.TASK,
        "title": f"ticket {ticket_id}",
        "status": Status.OPEN,
        "created": NOW - timedelta(days=10),
        "estimate_hours": 8.0,
        "estimate_source": "estimated_hours",
        "estimate_assumed": False,
    }
    base.update(fields)
    return Ticket(**base)


def agent(agent_id: str, skills: dict[str, float], **fields: Any) -> Agent:
    return Agent(id=agent_id, name=agent_id, skills=skills, **fields)


def score(
    tickets: list[Ticket], agents: list[Agent] | None = None, now: datetime = NOW, config: Config | None = None
) -> Scores:
    return score_tickets(TicketArrays.from_tickets(tickets), agents or [], config or Config(), now)


def row(scores: Scores, ticket_id: str) -> int:
    return scores.tickets.id.index(ticket_id)


def with_weights(config: Config, **weights: float) -> Config:
    return config._replace(weights=config.weights._replace(**weights))


SKILLS = ("python", "backend", "frontend", "docs", "ml")
days = st.floats(min_value=-60, max_value=120, allow_nan=False)


@st.composite
def backlogs(draw: st.DrawFn, max_tickets: int = 8) -> tuple[list[Ticket], list[Agent]]:
    """A few tickets with random deadlines, ages, effort, labels, business facts, skills and
    dependencies among them, and a small roster."""
    n = draw(st.integers(min_value=1, max_value=max_tickets))
    ids = [f"T-{k}" for k in range(n)]
    tickets = []
    for k in range(n):
        business: dict[str, Any] = {}
        if draw(st.booleans()):
            business["client_tier"] = draw(st.sampled_from(["enterprise", "tier 2", "free", "3", "gold", "odd"]))
        if draw(st.booleans()):
            business["revenue_potential"] = draw(st.floats(0, 1e6))
        if draw(st.booleans()):
            business["cost"] = draw(st.floats(0, 1e5))
        tickets.append(
            ticket(
                ids[k],
                kind=draw(st.sampled_from([Kind.TASK, Kind.TASK, Kind.ISSUE, Kind.BUG, Kind.EPIC])),
                status=draw(st.sampled_from(list(Status))),
                priority=draw(st.none() | st.sampled_from(list(Priority))),
                due=draw(st.none() | days.map(lambda d: NOW + timedelta(days=d))),
                created=draw(st.none() | st.floats(0, 400).map(lambda d: NOW - timedelta(days=d))),
                estimate_hours=draw(st.floats(0, 120)),
                completion_pct=draw(st.none() | st.floats(0, 100)),
                skills=tuple(draw(st.lists(st.sampled_from([*SKILLS, "migration"]), max_size=3, unique=True))),
                skills_source=draw(st.sampled_from(["tags", "explicit"])),
                depends_on=tuple(draw(st.lists(st.sampled_from([*ids, "GONE-1"]), max_size=3, unique=True))),
                business=business,
                assignee=draw(st.none() | st.sampled_from(["a0", "a1", "nobody"])),
            )
        )
    agents = [
        agent(
            f"a{a}",
            draw(st.dictionaries(st.sampled_from(SKILLS), st.floats(0, 1), max_size=4)),
            capacity_hours=draw(st.floats(0, 60)),
            max_tasks=draw(st.integers(0, 4)),
            availability=draw(st.sampled_from([0.0, 0.5, 1.0])),
        )
        for a in range(draw(st.integers(0, 3)))
    ]
    return tickets, agents


weights = st.builds(
    WeightsConfig,
    urgency=st.floats(0, 1),
    business_impact=st.floats(0, 1),
    resource_efficiency=st.floats(0, 1),
    revenue=st.floats(0, 1),
    dependency=st.floats(0.01, 1),
)
