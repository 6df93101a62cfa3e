"""Progress: rollups weighted by effort, P50/P90 forecasts, and delay risk."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.config import ProgressConfig
from taskdist.progress import (
    DAY,
    ProgressInput,
    Speed,
    bands,
    forecast,
    learn_speed,
    own_completion,
    resolve_parents,
    rollup,
)
from tests.conftest import NOW

NOW_S = NOW.timestamp()
CFG = ProgressConfig()
PRIOR = Speed(0.0, CFG.prior_sigma, 0)


def make(
    *,
    status: list[str],
    estimate: list[float],
    parent: list[str | None] | None = None,
    completion: list[float] | None = None,
    due_days: list[float | None] | None = None,
    agent: list[int] | None = None,
    work_item: list[bool] | None = None,
    rank: list[float] | None = None,
    edges: list[tuple[int, int]] | None = None,
    stuck: list[bool] | None = None,
) -> ProgressInput:
    n = len(status)
    due = [math.nan if d is None else NOW_S + d * DAY for d in (due_days or [None] * n)]
    return ProgressInput(
        project=["p"] * n,
        id=[f"T{k}" for k in range(n)],
        parent=parent or [None] * n,
        work_item=np.array(work_item or [True] * n, dtype=bool),
        status=status,
        estimate_hours=np.array(estimate, dtype=np.float64),
        completion=np.array(completion or [0.0] * n, dtype=np.float64),
        due=np.array(due, dtype=np.float64),
        agent=np.array(agent or [-1] * n, dtype=np.int64),
        rank_key=np.array(rank or [0.0] * n, dtype=np.float64),
        dep_src=np.array([a for a, _ in edges or []], dtype=np.int64),
        dep_dst=np.array([b for _, b in edges or []], dtype=np.int64),
        stuck=np.array(stuck or [False] * n, dtype=bool),
    )


def run(data: ProgressInput, paces: list[float] | None = None, speeds: list[Speed] | None = None):  # type: ignore[no-untyped-def]
    paces = paces if paces is not None else [8.0]
    speeds = speeds if speeds is not None else [PRIOR] * len(paces)
    return forecast(data, np.array(paces, dtype=np.float64), speeds, PRIOR, 8.0, CFG, NOW_S)


def test_own_completion_prefers_percentage_then_boxes_and_done_is_full() -> None:
    value = own_completion(
        ["open", "open", "open", "done"],
        np.array([40.0, np.nan, np.nan, np.nan]),
        np.array([0, 1, 0, 0]),
        np.array([0, 4, 0, 0]),
    )
    assert value.tolist() == [0.4, 0.25, 0.0, 1.0]


def test_rollup_weights_children_by_effort_through_two_levels() -> None:
    # E <- I1 <- (T2 4h done, T3 4h at 50%); E <- I4 (8h, no children, 0%)
    parent = [None, "T0", "T1", "T1", "T0"]
    index = resolve_parents(["p"] * 5, [f"T{k}" for k in range(5)], parent)
    own = np.array([0.0, 0.0, 1.0, 0.5, 0.0])
    estimate = np.array([1.0, 99.0, 4.0, 4.0, 8.0])
    none = np.zeros(5, dtype=bool)
    completion, weight, children = rollup(index, own, estimate, none, none)
    assert completion[1] == 0.75  # the issue's own estimate does not count once it has children
    assert weight[1] == 8.0
    assert completion[0] == 0.375  # (8 x 0.75 + 8 x 0) / 16
    assert children.tolist() == [2, 2, 0, 0, 0]


def test_cancelled_children_weigh_nothing() -> None:
    index = resolve_parents(["p"] * 3, ["E", "A", "B"], [None, "E", "E"])
    completion, weight, _ = rollup(
        index,
        np.array([0.0, 1.0, 0.0]),
        np.array([1.0, 4.0, 100.0]),
        np.array([False, False, True]),
        np.array([False, True, False]),
    )
    assert completion[0] == 1.0 and weight[0] == 4.0


def test_parent_loops_are_cut_and_case_insensitive_references_resolve() -> None:
    index = resolve_parents(["p"] * 4, ["A", "B", "C", "D"], ["B", "C", "A", "a"])
    assert index[3] == 0
    walked = 0
    for start in range(4):
        node, steps = start, 0
        while node >= 0 and steps < 10:
            node, steps = int(index[node]), steps + 1
        walked += steps
        assert steps < 10
    assert walked > 0


def test_due_tomorrow_with_forty_hours_unassigned_is_high_or_critical() -> None:
    result = run(make(status=["open"], estimate=[40.0], due_days=[1.0]))
    assert result.band[0] in ("high", "critical")
    assert result.p_late[0] > CFG.high_risk
    assert result.p50[0] <= result.p90[0]


def test_overdue_is_critical_and_closed_has_no_forecast() -> None:
    result = run(make(status=["open", "done"], estimate=[1.0, 1.0], due_days=[-1.0, -1.0]))
    assert result.band == ["critical", ""]
    assert math.isnan(result.p50[1])


def test_agent_works_started_then_priority_order() -> None:
    # Both held by agent 0 at 8 h/day; the started one comes first even with the lower priority.
    data = make(status=["open", "in_progress"], estimate=[8.0, 8.0], agent=[0, 0], rank=[90.0, 10.0])
    result = run(data)
    assert result.p50[1] < result.p50[0]
    assert math.isclose(result.p50[0] - NOW_S, 2 * (result.p50[1] - NOW_S))


def test_a_learned_slow_agent_finishes_later() -> None:
    data = make(status=["open", "open"], estimate=[8.0, 8.0], agent=[0, 1])
    slow = learn_speed([(1.0, 2.0)] * 20, CFG.prior_sigma, 2.0)
    result = run(data, paces=[8.0, 8.0], speeds=[PRIOR, slow])
    assert result.p50[1] > result.p50[0]


def test_away_agent_and_dependency_cycle_never_finish() -> None:
    data = make(
        status=["open", "open", "open"],
        estimate=[4.0, 4.0, 4.0],
        agent=[0, -1, -1],
        due_days=[5, 5, 5],
        stuck=[False, True, False],
        edges=[(1, 2)],
    )
    result = run(data, paces=[0.0])
    assert math.isinf(result.p50[0]) and math.isinf(result.p50[1]) and math.isinf(result.p50[2])
    assert result.band == ["critical"] * 3


def test_dependents_finish_after_their_prerequisites() -> None:
    data = make(status=["open", "open", "open"], estimate=[16.0, 1.0, 1.0], agent=[0, 1, -1], edges=[(0, 1), (1, 2)])
    result = run(data, paces=[8.0, 8.0])
    assert result.p50[0] < result.p50[1] < result.p50[2]
    assert result.p90[0] < result.p90[1] < result.p90[2]


def test_dependency_chain_deeper_than_the_relaxation_rounds_is_exact() -> None:
    n = 200
    data = make(status=["open"] * n, estimate=[1.0] * n, agent=[0] * n, edges=[(k, k + 1) for k in range(n - 1)])
    result = run(data, paces=[8.0])
    assert np.all(np.diff(result.p50) > 0)


def test_learn_speed_shrinks_toward_the_prior() -> None:
    assert learn_speed([], 0.5, 3.0) == Speed(0.0, 0.5, 0)
    few = learn_speed([(1.0, 2.0)], 0.5, 3.0)
    many = learn_speed([(1.0, 2.0)] * 200, 0.5, 3.0)
    assert 0 < few.mu < many.mu < math.log(2.0)
    assert many.sigma < few.sigma


def test_containers_take_their_latest_child_and_their_own_due_date() -> None:
    data = make(
        status=["open", "open", "open"],
        estimate=[1.0, 8.0, 40.0],
        parent=[None, "T0", "T0"],
        work_item=[False, True, True],
        due_days=[2.0, 30.0, 30.0],
    )
    result = run(data)
    assert result.p50[0] == max(result.p50[1], result.p50[2])
    assert result.p_late[0] > result.p_late[2]  # the epic is due much sooner than its children


def test_bands_follow_the_configured_thresholds() -> None:
    p = np.array([0.1, 0.3, 0.6, 0.9, np.nan, 0.0])
    due = np.array([NOW_S + DAY] * 4 + [np.nan, NOW_S - 1])
    closed = np.zeros(6, dtype=bool)
    assert bands(p, due, NOW_S, closed, CFG) == ["low", "medium", "high", "critical", "none", "critical"]


statuses = st.sampled_from(["open", "in_progress", "review", "blocked", "done", "cancelled"])


@st.composite
def instances(draw: st.DrawFn) -> tuple[ProgressInput, list[float], list[Speed]]:
    n = draw(st.integers(1, 12))
    agents = draw(st.integers(0, 3))
    parent = [draw(st.one_of(st.none(), st.integers(0, n - 1).map(lambda k: f"T{k}"))) for _ in range(n)]
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n * 2))
    data = make(
        status=[draw(statuses) for _ in range(n)],
        estimate=[draw(st.floats(0, 200)) for _ in range(n)],
        parent=parent,
        completion=[draw(st.floats(0, 1)) for _ in range(n)],
        due_days=[draw(st.one_of(st.none(), st.floats(-30, 60))) for _ in range(n)],
        agent=[draw(st.integers(-1, agents - 1)) for _ in range(n)],
        work_item=[draw(st.booleans()) for _ in range(n)],
        rank=[draw(st.floats(0, 100)) for _ in range(n)],
        edges=edges,
    )
    paces = [draw(st.floats(0, 12)) for _ in range(agents)]
    speeds = [Speed(draw(st.floats(-1, 1)), draw(st.floats(0.01, 2)), 1) for _ in range(agents)]
    return data, paces, speeds


@settings(max_examples=150, deadline=None)
@given(instances())
def test_p50_never_exceeds_p90_and_everything_stays_in_range(
    case: tuple[ProgressInput, list[float], list[Speed]],
) -> None:
    data, paces, speeds = case
    result = forecast(data, np.array(paces, dtype=np.float64), speeds, PRIOR, 8.0, CFG, NOW_S)
    forecasted = ~np.isnan(result.p50)
    assert np.all(result.p50[forecasted] <= result.p90[forecasted])
    assert np.all(result.p50[forecasted] >= NOW_S)
    percent = 100.0 * result.completion
    assert np.all((percent >= 0) & (percent <= 100))
    risk = result.p_late[~np.isnan(result.p_late)]
    assert np.all((risk >= 0) & (risk <= 1))
