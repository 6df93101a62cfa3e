"""Workload: utilization, states and alerts, the health score and its parts, the forecast and its trend."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.config import WorkloadConfig
from taskdist.models import Agent
from taskdist.workload import HEALTH_WEIGHTS, Snapshot, Waiting, Workload, assess, imbalance_of, trend, utilizations
from tests.conftest import NOW

CFG = WorkloadConfig()


def team(*capacities: float, availability: float = 1.0) -> list[Agent]:
    return [Agent(f"a{k}", f"A{k}", {"python": 0.9}, c, 5, availability) for k, c in enumerate(capacities)]


def run(
    agents: list[Agent],
    hours: list[float],
    tickets: list[int],
    could: list[int] | None = None,
    waiting: Waiting | None = None,
    history: list[Snapshot] | None = None,
) -> Workload:
    return assess(
        agents,
        np.array(hours, dtype=np.float64),
        np.array(tickets, dtype=np.int64),
        np.array(could or [0] * len(agents), dtype=np.int64),
        waiting or Waiting(),
        history or [],
        CFG,
        8.0,
        5.0,
        NOW,
    )


def test_utilization_is_the_tighter_of_hours_and_tickets() -> None:
    agents = team(40, 40)
    util = utilizations(agents, np.array([10.0, 40.0]), np.array([5, 1]))
    assert util.tolist() == [1.0, 1.0]
    away = [Agent("x", "X", {}, 40, 5, 0.0)]
    assert np.isinf(utilizations(away, np.array([3.0]), np.array([1]))[0])


def test_states_and_alerts() -> None:
    agents = [*team(40, 40, 40), Agent("away", "Away", {}, 40, 5, 0.0)]
    waiting = Waiting(open_tickets=10, oldest_ready="T-9", oldest_ready_days=40.0, unassigned_ready=3)
    result = run(agents, [60.0, 0.0, 20.0, 5.0], [3, 0, 2, 1], could=[0, 2, 0, 0], waiting=waiting)
    assert [a.state for a in result.agents] == ["overloaded", "idle", "ok", "away"]
    kinds = {(a.kind, a.subject, a.severity) for a in result.alerts}
    assert ("overloaded", "a0", "high") in kinds
    assert ("idle", "a1", "medium") in kinds
    assert ("away_with_work", "away", "high") in kinds
    assert ("queue_too_old", "T-9", "high") in kinds


def test_idle_without_work_it_could_take_is_no_alert() -> None:
    result = run(team(40, 40), [0.0, 20.0], [0, 1], could=[0, 0])
    assert [a.kind for a in result.alerts] == []
    assert result.health.parts["flow"]["value"] == 1.0


def test_health_parts_are_weighted_and_sum_to_the_score() -> None:
    result = run(team(40, 40), [20.0, 20.0], [1, 1], waiting=Waiting(open_tickets=4, at_risk_share=0.5))
    parts = result.health.parts
    assert set(parts) == set(HEALTH_WEIGHTS)
    assert abs(sum(p["points"] for p in parts.values()) - result.health.score) < 0.05
    assert parts["delivery"]["value"] == 0.5
    assert abs(result.health.score - 90.0) < 1e-9


def test_imbalance_is_the_coefficient_of_variation() -> None:
    assert imbalance_of(np.array([0.5, 0.5])) == 0.0
    assert abs(imbalance_of(np.array([0.0, 1.0])) - 1.0) < 1e-12
    assert imbalance_of(np.array([0.7])) == 0.0


def test_forecast_days_to_clear_and_capacity_ratio() -> None:
    waiting = Waiting(open_tickets=5, backlog_hours=80.0, ready_backlog_hours=40.0)
    result = run(team(40, 40), [0.0, 0.0], [0, 0], waiting=waiting)
    forecast = result.forecast
    assert forecast["team_capacity_hours"] == 80.0
    assert forecast["backlog_ratio"] == 0.5
    assert forecast["team_hours_per_day"] == round(16 * 5 / 7, 2)
    assert forecast["days_to_clear"] == round(80 / (16 * 5 / 7), 1)
    assert forecast["trend"]["direction"] == "unknown"


def test_trend_uses_the_run_closest_to_the_window() -> None:
    history = [
        Snapshot(NOW - timedelta(days=30), 500.0, 50, 60.0),
        Snapshot(NOW - timedelta(days=7), 200.0, 20, 70.0),
        Snapshot(NOW - timedelta(minutes=5), 101.0, 10, 70.0),
    ]
    shrinking = trend(100.0, history, 7.0, NOW)
    assert shrinking["direction"] == "shrinking"
    assert shrinking["burn_hours_per_day"] == round(100 / 7, 2)
    assert shrinking["projected_clear"] == (NOW + timedelta(days=7)).strftime("%Y-%m-%d")
    assert trend(300.0, history, 7.0, NOW)["direction"] == "growing"
    assert trend(200.0, history, 7.0, NOW)["direction"] == "flat"


@st.composite
def teams(draw: st.DrawFn) -> tuple[list[Agent], list[float], list[int], list[int], Waiting]:
    n = draw(st.integers(1, 6))
    agents = [
        Agent(
            f"a{k}",
            f"A{k}",
            {},
            draw(st.floats(1, 80)),
            draw(st.integers(1, 8)),
            draw(st.sampled_from([0.0, 0.5, 1.0])),
        )
        for k in range(n)
    ]
    hours = [draw(st.floats(0, 200)) for _ in range(n)]
    tickets = [draw(st.integers(0, 12)) for _ in range(n)]
    could = [draw(st.integers(0, 5)) for _ in range(n)]
    waiting = Waiting(
        open_tickets=draw(st.integers(0, 50)),
        oldest_ready="T" if draw(st.booleans()) else None,
        oldest_ready_days=draw(st.floats(0, 100)),
        at_risk_share=draw(st.floats(0, 1)),
    )
    return agents, hours, tickets, could, waiting


@settings(max_examples=200, deadline=None)
@given(teams(), st.data())
def test_health_stays_in_range_and_never_improves_when_an_overloaded_agent_gets_more(
    case: tuple[list[Agent], list[float], list[int], list[int], Waiting], data: st.DataObject
) -> None:
    agents, hours, tickets, could, waiting = case
    before = run(agents, hours, tickets, could, waiting)
    assert 0.0 <= before.health.score <= 100.0
    for part in before.health.parts.values():
        assert 0.0 <= part["value"] <= 1.0
    overloaded = [k for k, a in enumerate(before.agents) if a.utilization > CFG.overloaded_above]
    if not overloaded:
        return
    k = data.draw(st.sampled_from(overloaded))
    more_hours = list(hours)
    more_tickets = list(tickets)
    more_hours[k] += data.draw(st.floats(0, 100))
    more_tickets[k] += data.draw(st.integers(0, 5))
    after = run(agents, more_hours, more_tickets, could, waiting)
    assert after.health.score <= before.health.score + 1e-9
