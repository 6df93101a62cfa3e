"""Helpers for the assignment tests: random instances, brute force, and small ticket projects on disk."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from taskdist.assignment import IntArray, Problem, objective, violations


def random_problem(rng: np.random.Generator, n: int, m: int, density: float = 0.6) -> Problem:
    """A random instance: hours, slots, room and slot steps per agent, values on random eligible pairs."""
    hours = rng.choice([0.5, 1, 2, 3, 5, 8], n).astype(float)
    slots = rng.integers(0, 4, m)
    room = rng.choice([0, 2, 4, 6, 10, 40], m).astype(float)
    step = rng.choice([0.0, 0.1, 0.2], m) / np.maximum(slots, 1)
    pt, pa, pv = [], [], []
    for j in range(n):
        for i in range(m):
            if rng.random() < density:
                pt.append(j)
                pa.append(i)
                pv.append(round(float(rng.uniform(0.01, 1.0)), 4))
    return Problem.build(
        [("p", f"T{j}") for j in range(n)], [f"a{i}" for i in range(m)], hours, slots, room, step, pt, pa, pv
    )


def skilled_problem(rng: np.random.Generator, n: int, m: int, tightness: float, slot_cost: float) -> Problem:
    """A team-shaped instance: agents with proficiencies in some of 6 skills, tickets needing 1-2 of them,
    eligible when the mean proficiency over the ticket's skills is at least 0.7, compatibility 0.4 x that
    + 0.6 x a random rest (experience, performance, load), beta priorities, lognormal hours on a half-hour
    grid; max_tasks 2-8 with 0-2 tickets held, capacity 15-60 h x `tightness` less the hours held (at
    0.3 most agents have room for a few tickets only: hours bind hard)."""
    skills = 6
    proficiency = np.where(rng.random((m, skills)) < 0.5, rng.uniform(0.5, 1.0, (m, skills)), 0.0)
    needs = rng.random((n, skills)) < 1.5 / skills
    none = ~needs.any(axis=1)
    needs[none, rng.integers(0, skills, int(none.sum()))] = True
    match = (needs.astype(np.float64) @ proficiency.T) / needs.sum(axis=1, keepdims=True)
    compatibility = 0.4 * match + 0.6 * rng.uniform(0.2, 1.0, (n, m))
    priority = np.round(rng.beta(2, 3, n) * 100, 2)
    hours = np.round(np.clip(rng.lognormal(1.2, 0.8, n), 0.5, 24) * 2) / 2
    max_tasks = rng.integers(2, 9, m)
    held = rng.integers(0, 3, m)
    room = np.maximum(rng.uniform(15, 60, m) * tightness - held * rng.uniform(0, 6, m), 0.0)
    pt, pa = np.nonzero(match >= 0.7)
    return Problem.build(
        [("p", f"T{j:04d}") for j in range(n)],
        [f"a{i:03d}" for i in range(m)],
        hours,
        np.maximum(max_tasks - held, 0),
        room,
        slot_cost / max_tasks,
        pt,
        pa,
        np.round(priority[pt] * compatibility[pt, pa], 4),
        priority=priority,
    )


def milp_optimum(problem: Problem, gap: float = 1e-4) -> tuple[IntArray, float]:
    """`scipy.optimize.milp` (HiGHS) on the model with the hour limits: x[p, k] = pair p in slot k of its
    agent, each ticket once, each slot once, each agent's hours within its room. Returns its plan and
    HiGHS's proven upper bound on the optimum (within `gap` of the plan's objective)."""
    import scipy.sparse as sp
    from scipy.optimize import LinearConstraint, milp

    slots = np.minimum(problem.slots, np.bincount(problem.pair_agent, minlength=problem.m))
    start = np.concatenate([[0], np.cumsum(slots)])
    pair = np.repeat(np.arange(len(problem.pair_agent)), slots[problem.pair_agent])
    agent = problem.pair_agent[pair]
    rank = np.arange(len(pair)) - np.repeat(
        np.cumsum(slots[problem.pair_agent]) - slots[problem.pair_agent], slots[problem.pair_agent]
    )
    ticket = problem.pair_ticket[pair]
    value = problem.pair_value[pair] * (1.0 - problem.step[agent] * rank)
    total = int(slots.sum())
    count = len(pair)
    rows = np.concatenate([ticket, problem.n + start[agent] + rank, problem.n + total + agent])
    data = np.concatenate([np.ones(count), np.ones(count), problem.hours[ticket]])
    upper = np.concatenate([np.ones(problem.n), np.ones(total), problem.room + 1e-9])
    matrix = sp.csr_array((data, (rows, np.tile(np.arange(count), 3))), shape=(problem.n + total + problem.m, count))
    result = milp(
        -value,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(count),
        bounds=(0, 1),
        options={"mip_rel_gap": gap, "time_limit": 120.0},
    )
    assert result.x is not None, result.message
    plan = np.full(problem.n, -1, dtype=np.int64)
    chosen = np.nonzero(result.x > 0.5)[0]
    plan[ticket[chosen]] = agent[chosen]
    return plan, -float(result.mip_dual_bound)


def shuffled(problem: Problem, rng: np.random.Generator) -> Problem:
    """The same instance given in another order: tickets, agents and pairs permuted."""
    t_perm = rng.permutation(problem.n)
    a_perm = rng.permutation(problem.m)
    t_rank = np.empty(problem.n, dtype=np.int64)
    t_rank[t_perm] = np.arange(problem.n)
    a_rank = np.empty(problem.m, dtype=np.int64)
    a_rank[a_perm] = np.arange(problem.m)
    pairs = rng.permutation(len(problem.pair_value))
    return Problem.build(
        [problem.ticket_keys[k] for k in t_perm.tolist()],
        [problem.agent_ids[k] for k in a_perm.tolist()],
        problem.hours[t_perm],
        problem.slots[a_perm],
        problem.room[a_perm],
        problem.step[a_perm],
        t_rank[problem.pair_ticket[pairs]],
        a_rank[problem.pair_agent[pairs]],
        problem.pair_value[pairs],
        priority=problem.priority[t_perm],
    )


def brute_force(problem: Problem) -> float:
    """The best objective over every assignment of every ticket to one of its agents or to nobody."""
    options = [[-1, *problem.agents_of(j).tolist()] for j in range(problem.n)]
    best = 0.0
    for combo in itertools.product(*options):
        plan: IntArray = np.array(combo, dtype=np.int64)
        if not violations(problem, plan):
            best = max(best, objective(problem, plan))
    return best


def by_key(problem: Problem, plan: IntArray) -> dict[tuple[str, str], str]:
    return {problem.ticket_keys[j]: problem.agent_ids[int(i)] for j, i in enumerate(plan.tolist()) if i >= 0}


ROSTER = """\
agents:
  - id: alice
    name: Alice
    skills: {python: 0.9, backend: 0.9}
    capacity_hours: 40
    max_tasks: 3
    aliases: [al]
  - id: bob
    skills: {python: 0.9, backend: 0.9}
    capacity_hours: 40
    max_tasks: 3
  - id: carol
    skills: {frontend: 0.9}
    capacity_hours: 10
    max_tasks: 2
"""


def ticket_a(
    ticket_id: str,
    *,
    tags: str = "[python, backend]",
    assignee: str = "unassigned",
    status: str = "open",
    hours: float = 4,
    extra: str = "",
    deps: str = "[]",
) -> str:
    """A dialect-A task file."""
    return (
        f"---\ntask_id: {ticket_id}\nissue_id: ISS-0001\ntitle: Task {ticket_id}\nstatus: {status}\n"
        f"priority: high\nassignee: {assignee}\ncreated_date: 2026-11-01T10:00:00.000Z\n"
        f"estimated_hours: {hours}\ntags: {tags}\ndependencies: {deps}\n{extra}---\n\n"
        f"# Task {ticket_id}\n\n- [ ] do it\n"
    )


def ticket_b(
    ticket_id: str, *, tags: str = "[python, backend]", assignees: str = "[]", status: str = "open", hours: float = 4
) -> str:
    """A dialect-B task file (keys sorted, quoted naive timestamps)."""
    return (
        f"---\nactual_hours: null\nassignees: {assignees}\ncreated_at: '2026-11-01T10:00:00.000000'\n"
        f"dependencies: []\ndescription: Task {ticket_id}\ndue_date: ''\nestimated_hours: {hours}\nid: {ticket_id}\n"
        f"labels: []\nmetadata:\n  type: task\nparent: null\npriority: high\nstatus: {status}\ntags: {tags}\n"
        f"title: Task {ticket_id}\nupdated_at: '2026-11-02T10:00:00.000000'\n---\n\n# Task {ticket_id}\n"
    )


def write_project(folder: Path, files: dict[str, str], roster: str = ROSTER) -> Path:
    """Ticket files under `folder/tasks/` and the roster beside them; returns the roster path."""
    (folder / "tasks").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / "tasks" / name).write_bytes(text.encode("utf-8"))
    roster_path = folder / "roster.yaml"
    roster_path.write_text(roster, encoding="utf-8")
    return roster_path
