"""On random team-shaped instances of a few hundred tickets with hour capacities and max_tasks (hours
binding hard included), the optimizer is within 1% of `scipy.optimize.milp`'s optimum for the same
model, keeps every constraint, is never below greedy and does not depend on the input order."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from taskdist.assignment import objective, solve, violations
from tests.assignment_tools import by_key, milp_optimum, shuffled, skilled_problem

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


# Derandomized: CI sees the same examples every run (about 1 s each, most of it the MILP). The explicit
# examples are tight instances on which the optimizer used to fall 1-3% below the optimum.
@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(
    seed=SEEDS,
    n=st.integers(150, 400),
    m=st.integers(5, 25),
    tightness=st.sampled_from([0.3, 0.5, 1.0, 2.0]),
    slot_cost=st.sampled_from([0.0, 0.2]),
)
@example(seed=5, n=250, m=20, tightness=0.3, slot_cost=0.0)  # was 2.3% below the bound
@example(seed=0, n=180, m=8, tightness=0.5, slot_cost=0.0)  # was 1.3% below
def test_within_one_percent_of_milp_never_below_greedy_and_order_free(
    seed: int, n: int, m: int, tightness: float, slot_cost: float
) -> None:
    problem = skilled_problem(np.random.default_rng(seed), n, m, tightness, slot_cost)
    solution = solve(problem)
    assert violations(problem, solution.agent_of) == []
    assert solution.objective == objective(problem, solution.agent_of)
    # HiGHS stops within 0.5% of its proven bound; the bound is at least the optimum, so this is at
    # least as strict as "within 1% of the optimum".
    exact, bound = milp_optimum(problem, gap=0.005)
    assert violations(problem, exact) == []
    assert objective(problem, exact) <= bound + 1e-6
    assert solution.objective >= 0.99 * bound
    assert solution.objective >= solve(problem, "greedy").objective - 1e-9
    other = shuffled(problem, np.random.default_rng(seed + 1))
    again = solve(other)
    assert by_key(other, again.agent_of) == by_key(problem, solution.agent_of)
    assert again.objective == solution.objective
