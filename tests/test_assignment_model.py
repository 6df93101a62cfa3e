"""The optimizer's model: exact on small instances, valid always, order-independent, never below greedy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import taskdist.assignment_solvers as solvers
from taskdist.assignment import Problem, objective, resolve_conflicts, solve, violations
from taskdist.assignment_baselines import BASELINES, greedy
from tests.assignment_tools import brute_force, by_key, random_problem

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=120, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 7), m=st.integers(1, 4))
def test_optimal_equals_brute_force_and_keeps_every_constraint(seed: int, n: int, m: int) -> None:
    problem = random_problem(np.random.default_rng(seed), n, m)
    solution = solve(problem)
    assert violations(problem, solution.agent_of) == []
    assert solution.objective == pytest.approx(brute_force(problem), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 12), m=st.integers(1, 5))
def test_every_strategy_keeps_every_constraint_and_optimal_is_never_below_them(seed: int, n: int, m: int) -> None:
    problem = random_problem(np.random.default_rng(seed), n, m)
    best = solve(problem).objective
    for name in BASELINES:
        baseline = solve(problem, name)
        assert violations(problem, baseline.agent_of) == []
        assert best >= baseline.objective - 1e-9


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 40), m=st.integers(1, 6), data=st.data())
def test_the_plan_does_not_depend_on_input_order(seed: int, n: int, m: int, data: st.DataObject) -> None:
    problem = random_problem(np.random.default_rng(seed), n, m)
    t_perm = data.draw(st.permutations(range(n)))
    a_perm = data.draw(st.permutations(range(m)))
    t_rank = {old: new for new, old in enumerate(t_perm)}
    a_rank = {old: new for new, old in enumerate(a_perm)}
    pt = problem.pair_ticket.tolist()
    shuffled = Problem.build(
        [problem.ticket_keys[k] for k in t_perm],
        [problem.agent_ids[k] for k in a_perm],
        problem.hours[list(t_perm)],
        problem.slots[list(a_perm)],
        problem.room[list(a_perm)],
        problem.step[list(a_perm)],
        [t_rank[j] for j in reversed(pt)],
        [a_rank[i] for i in reversed(problem.pair_agent.tolist())],
        list(reversed(problem.pair_value.tolist())),
    )
    first, second = solve(problem), solve(shuffled)
    assert by_key(problem, first.agent_of) == by_key(shuffled, second.agent_of)
    assert first.objective == second.objective


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 30), m=st.integers(1, 6))
def test_sparse_slot_solve_equals_the_dense_one(seed: int, n: int, m: int) -> None:
    problem = random_problem(np.random.default_rng(seed), n, m)
    free = Problem.build(
        problem.ticket_keys,
        problem.agent_ids,
        problem.hours * 0,
        problem.slots,
        problem.room * 0 + 1e9,
        problem.step,
        problem.pair_ticket,
        problem.pair_agent,
        problem.pair_value,
    )
    sparse, kind = solvers.exact_slots(free)
    assert kind == "exact"
    assert objective(free, sparse) == pytest.approx(objective(free, solvers.dense_slots(free)), abs=1e-9)


def test_layered_solve_stays_close_to_the_exact_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    tight = random_problem(rng, 300, 30, density=0.3)
    roomy = Problem.build(
        tight.ticket_keys,
        tight.agent_ids,
        tight.hours,
        tight.slots,
        tight.room * 0 + 1e9,
        tight.step,
        tight.pair_ticket,
        tight.pair_agent,
        tight.pair_value,
    )
    exact = {name: solve(p) for name, p in (("tight", tight), ("roomy", roomy))}
    monkeypatch.setattr(solvers, "EXACT_CELLS", 0)
    for name, p in (("tight", tight), ("roomy", roomy)):
        layered = solve(p)
        assert "layered" in layered.solver
        assert violations(p, layered.agent_of) == []
        # Without binding hours the layers lose little; with them (measured in `make bench`) more.
        assert layered.objective >= (0.99 if name == "roomy" else 0.9) * exact[name].objective


def test_a_failing_solver_falls_back_to_greedy_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_problem(np.random.default_rng(3), 10, 3)

    def broken(_: Problem) -> None:
        raise ValueError("no full matching exists")

    monkeypatch.setattr(solvers, "slot_solve", broken)
    solution = solve(problem)
    assert solution.fallback and solution.solver.startswith("greedy-fallback")
    assert any("greedy plan used instead" in note for note in solution.notes)
    assert violations(problem, solution.agent_of) == []
    assert solution.objective >= objective(problem, greedy(problem)) - 1e-9


def test_conflict_resolution_drops_the_lowest_value_pairs() -> None:
    problem = Problem.build(
        [("p", "A"), ("p", "B"), ("p", "C")], ["x"], [3, 3, 3], [2], [6.0], [0.0], [0, 1, 2], [0, 0, 0], [0.9, 0.1, 0.5]
    )
    overfull = np.array([0, 0, 0], dtype=np.int64)
    assert violations(problem, overfull) == ["x gets 3 tickets, room for 2", "x gets 9.00 h, room for 6.00 h"]
    fixed, dropped = resolve_conflicts(problem, overfull)
    assert fixed.tolist() == [0, -1, 0] and dropped == [1]


def test_a_slot_cost_spreads_equal_candidates_but_leaves_no_ticket_out() -> None:
    # Two identical agents with room for two each, two equal tickets: one each.
    problem = Problem.build(
        [("p", "A"), ("p", "B")],
        ["x", "y"],
        [1, 1],
        [2, 2],
        [9.0, 9.0],
        [0.1, 0.1],
        [0, 0, 1, 1],
        [0, 1, 0, 1],
        [0.5, 0.5, 0.5, 0.5],
    )
    assert sorted(by_key(problem, solve(problem).agent_of).values()) == ["x", "y"]
    # Only one agent: both tickets still go to it (the second at 0.9 of its value).
    alone = Problem.build([("p", "A"), ("p", "B")], ["x"], [1, 1], [2], [9.0], [0.1], [0, 1], [0, 0], [0.5, 0.4])
    result = solve(alone)
    assert result.agent_of.tolist() == [0, 0]
    assert result.objective == pytest.approx(0.5 + 0.4 * 0.9)


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, n=st.integers(1, 15), m=st.integers(2, 5))
def test_no_runner_up_switch_would_gain(seed: int, n: int, m: int) -> None:
    from taskdist.assignment_search import runner_ups

    problem = random_problem(np.random.default_rng(seed), n, m)
    solution = solve(problem)
    for j, second in enumerate(runner_ups(problem, solution.agent_of)):
        if second is None:
            continue
        agent, loss = second
        assert agent != solution.agent_of[j] and problem.value(j, agent) > 0
        assert loss >= -1e-9
