"""Hypothesis properties the design requires of the priority engine."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from taskdist.config import Config, PriorityConfig, WeightsConfig
from taskdist.factors import FACTORS, urgency
from taskdist.models import Agent, Ticket
from taskdist.queue import QueueFilter, select
from taskdist.render.priority import queue_json
from tests.conftest import NOW
from tests.priority_tools import backlogs, score, ticket, weights

SETTINGS = settings(max_examples=100, deadline=None)


@SETTINGS
@given(backlogs(), weights, st.floats(-100, 100))
def test_every_factor_in_0_1_and_composite_is_their_weighted_sum(
    backlog: tuple[list[Ticket], list[Agent]], w: WeightsConfig, shift: float
) -> None:
    tickets, agents = backlog
    s = score(tickets, agents, now=NOW + timedelta(days=shift), config=Config()._replace(weights=w))
    assert np.all((s.factors >= 0) & (s.factors <= 1))
    assert np.all((s.composite >= 0) & (s.composite <= 100 + 1e-9))
    assert np.allclose(s.contributions.sum(axis=1), s.composite, rtol=0, atol=1e-9)
    assert sorted(s.rank[s.queued].tolist()) == list(range(1, int(s.queued.sum()) + 1))


@SETTINGS
@given(
    st.none() | st.floats(-60, 90),
    st.none() | st.floats(0, 400),
    st.floats(0, 200),
    st.floats(0, 1),
    st.floats(-90, 120),
    st.floats(0, 60),
)
def test_urgency_never_falls_as_time_passes(
    due: float | None, age: float | None, estimate: float, done: float, start: float, step: float
) -> None:
    cfg = PriorityConfig()
    day = 86400.0
    now = NOW.timestamp() + start * day
    due_s = np.array([NOW.timestamp() + due * day if due is not None else np.nan])
    created = np.array([NOW.timestamp() - age * day if age is not None else np.nan])
    remaining = np.array([estimate * (1 - done)])
    before = urgency(due_s, created, remaining, now, cfg, 8.0).value[0]
    after = urgency(due_s, created, remaining, now + step * day, cfg, 8.0).value[0]
    assert 0.0 <= before <= after <= 1.0


@SETTINGS
@given(st.floats(0.01, 30), st.floats(0.01, 60), st.floats(0, 80), st.floats(0, 300), backlogs(max_tickets=4))
def test_overdue_outranks_the_same_ticket_not_yet_due(
    late: float, ahead: float, hours: float, age: float, others: tuple[list[Ticket], list[Agent]]
) -> None:
    created = NOW - timedelta(days=age)
    same = {"estimate_hours": hours, "created": created}
    tickets = [
        ticket("LATE", due=NOW - timedelta(days=late), **same),
        ticket("AHEAD", due=NOW + timedelta(days=ahead), **same),
        *others[0],
    ]
    s = score(tickets, others[1])
    overdue, upcoming = s.tickets.id.index("LATE"), s.tickets.id.index("AHEAD")
    assert s.factors[overdue, 0] == 1.0
    assert s.composite[overdue] >= s.composite[upcoming]
    if s.factors[upcoming, 0] < 1.0:
        assert s.rank[overdue] < s.rank[upcoming]


@SETTINGS
@given(backlogs())
def test_superset_of_dependents_means_dependency_factor_at_least_as_high(
    backlog: tuple[list[Ticket], list[Agent]],
) -> None:
    tickets, agents = backlog
    s = score(tickets, agents)
    n = len(s)
    downstream = [set(s.graph.downstream(k)) for k in range(n)]
    hours = s.urgency.remaining_hours
    for a in range(n):
        for b in range(n):
            if downstream[a] >= downstream[b]:
                assert s.factors[a, 4] >= s.factors[b, 4]
    # and it is the hours of what waits, each counted once (to the thousandth of an hour)
    for k in range(n):
        waiting = [j for j in downstream[k] if s.tickets.work_item[j]]
        expected = sum(round(max(hours[j], Config().priority.dependency_min_hours) * 1000) for j in waiting) / 1000
        assert s.downstream_hours[k] == pytest.approx(expected, abs=1e-9)


@SETTINGS
@given(backlogs(), weights, st.sampled_from(range(5)), st.floats(0.01, 5))
def test_raising_a_weight_never_lowers_the_rank_of_its_favourite(
    backlog: tuple[list[Ticket], list[Agent]], w: WeightsConfig, factor: int, extra: float
) -> None:
    tickets, agents = backlog
    base = Config()._replace(weights=w)
    before = score(tickets, agents, config=base)
    assume(before.queued.any())
    name = FACTORS[factor]
    raised = base._replace(weights=w._replace(**{name: getattr(w, name) + extra}))
    after = score(tickets, agents, config=raised)
    queued = np.nonzero(before.queued)[0]
    best = before.factors[queued, factor].max()
    for k in queued[before.factors[queued, factor] == best].tolist():
        assert after.rank[k] <= before.rank[k]


@SETTINGS
@given(backlogs(), st.floats(-30, 30))
def test_same_inputs_and_now_give_identical_output(backlog: tuple[list[Ticket], list[Agent]], shift: float) -> None:
    tickets, agents = backlog
    now = NOW + timedelta(days=shift)
    first = score(tickets, agents, now=now)
    second = score(list(reversed(tickets)), list(agents), now=now)
    for name in ("factors", "contributions", "composite", "rank", "order", "ready", "queued"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert queue_json(select(first, QueueFilter())) == queue_json(select(second, QueueFilter()))
