"""On instances of a few hundred tickets with hour capacities, the optimizer is within 1% of the exact
optimum that `scipy.optimize.milp` (HiGHS) finds for the same model, and never below greedy."""

from __future__ import annotations

import numpy as np
import pytest

from taskdist.assignment import Problem, objective, solve, violations
from taskdist.assignment_solvers import solve_milp


def instance(seed: int, n: int, m: int, slot_cost: float, tightness: float) -> Problem:
    """Tickets of lognormal hours, agents with 4-12 slots and 15-60 h (x tightness), 60% eligibility."""
    rng = np.random.default_rng(seed)
    hours = np.round(rng.lognormal(1.2, 0.7, n).clip(0.5, 24), 1)
    slots = rng.integers(4, 13, m)
    room = rng.uniform(15, 60, m) * tightness
    priority = rng.beta(2, 3, n) * 100
    pt, pa, pv = [], [], []
    for j in range(n):
        for i in range(m):
            if rng.random() < 0.6:
                pt.append(j)
                pa.append(i)
                pv.append(priority[j] * rng.uniform(0.5, 0.95))
    return Problem.build(
        [("p", f"T{j:04d}") for j in range(n)],
        [f"a{i}" for i in range(m)],
        hours,
        slots,
        room,
        slot_cost / slots,
        pt,
        pa,
        pv,
        priority=priority,
    )


@pytest.mark.parametrize(
    ("seed", "n", "m", "slot_cost", "tightness"),
    [
        (1, 200, 5, 0.0, 1.0),
        (2, 300, 6, 0.0, 0.5),
        (3, 250, 4, 0.0, 2.0),
        (4, 120, 4, 0.2, 1.0),
        (5, 100, 3, 0.2, 0.5),
    ],
)
def test_objective_within_one_percent_of_milp(seed: int, n: int, m: int, slot_cost: float, tightness: float) -> None:
    problem = instance(seed, n, m, slot_cost, tightness)
    solution = solve(problem)
    assert violations(problem, solution.agent_of) == []
    exact = solve_milp(problem, seconds=60.0)
    assert exact is not None and violations(problem, exact) == []
    optimum = objective(problem, exact)
    assert solution.objective >= 0.99 * optimum
    assert solution.objective >= solve(problem, "greedy").objective - 1e-9
