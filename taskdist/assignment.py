"""The assignment model and the optimizer's pipeline (docs/assignment.md has the long form).

Model. Tickets j and agents i; an eligible pair has value v_ij = priority_j x compatibility_ij > 0.
Each ticket goes to at most one agent; agent i takes at most `slots_i` new tickets (max_tasks minus
the tickets it holds) and at most `room_i` hours (capacity x availability minus the hours it holds).
Its new tickets, best first, count v x (1 - step_i x r) for r = 0, 1, ... (step_i = slot_cost /
max_tasks): a rising cost per further slot of the same agent, proportional to the pair's value, so
the optimum spreads load among near-equal candidates but never leaves a ticket out because of it.
The objective is the sum of those slot-weighted values.

Pipeline of the `optimal` strategy (`solve`):
1. slot solve per connected component of the eligibility graph (`assignment_solvers`): exact
   Hungarian-type solves over agent slots (sparse LAPJVsp, dense `linear_sum_assignment` as the
   fallback) for components up to `EXACT_CELLS` tickets x slots; when the hours bind there, tiny
   components are solved exactly by MILP, those up to `COLUMN_PAIRS` pairs and `COLUMN_AGENTS`
   agents by column generation (`assignment_columns`), larger ones with the hours priced in;
   components above `EXACT_CELLS` are solved in layers, one exact matching per slot level, each
   respecting the hours left;
2. local search (`assignment_search`): repair hour-capacity violations, fill freed room, improve by
   moves, swaps, replacements and exact re-plans of one agent;
3. validation of every constraint, and conflict resolution (drop the lowest-value pairs) if any fails;
4. the greedy plan is computed too (improved by the same local search when it wins or when a heuristic
   solved a small instance), and the better plan is kept, so the optimizer is never below greedy. If
   the solver raises, the greedy plan is used and recorded.

Everything is deterministic: `Problem.build` orders tickets by key and agents by id first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EPS = 1e-9
STRATEGIES = ("optimal", "greedy", "round-robin", "least-loaded")
SMALL_PAIRS = 5_000
LARGE_PAIRS = 200_000


@dataclass(slots=True)
class Problem:
    """A canonical instance: tickets sorted by key, agents by id, eligible pairs in CSR by ticket."""

    ticket_keys: list[tuple[str, str]]
    agent_ids: list[str]
    hours: FloatArray
    slots: IntArray
    room: FloatArray
    step: FloatArray
    ptr: IntArray
    pair_agent: IntArray
    pair_value: FloatArray
    priority: FloatArray  # per ticket: the order the baselines take tickets in
    held_hours: FloatArray  # per agent: hours held before this plan (least-loaded reads it)
    capacity: FloatArray  # per agent: capacity x availability

    @property
    def n(self) -> int:
        return len(self.ticket_keys)

    @property
    def m(self) -> int:
        return len(self.agent_ids)

    @property
    def pair_ticket(self) -> IntArray:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.ptr))

    @classmethod
    def build(
        cls,
        ticket_keys: Sequence[tuple[str, str]],
        agent_ids: Sequence[str],
        hours: Sequence[float] | FloatArray,
        slots: Sequence[int] | IntArray,
        room: Sequence[float] | FloatArray,
        step: Sequence[float] | FloatArray,
        pair_ticket: Sequence[int] | IntArray,
        pair_agent: Sequence[int] | IntArray,
        pair_value: Sequence[float] | FloatArray,
        priority: Sequence[float] | FloatArray | None = None,
        held_hours: Sequence[float] | FloatArray | None = None,
        capacity: Sequence[float] | FloatArray | None = None,
    ) -> Problem:
        """Canonicalize: sort tickets and agents, drop pairs that can never be used (no value, no slot,
        more hours than the agent has room for)."""
        keys: list[tuple[str, str]] = [(str(k[0]), str(k[1])) for k in ticket_keys]
        ids = list(agent_ids)
        if len(set(keys)) != len(keys) or len(set(ids)) != len(ids):
            raise ValueError("ticket keys and agent ids must be unique")
        t_order = sorted(range(len(keys)), key=lambda k: keys[k])
        a_order = sorted(range(len(ids)), key=lambda k: ids[k])
        t_rank = np.empty(len(keys), dtype=np.int64)
        t_rank[t_order] = np.arange(len(keys))
        a_rank = np.empty(len(ids), dtype=np.int64)
        a_rank[a_order] = np.arange(len(ids))
        hours_a = np.asarray(hours, dtype=np.float64)[t_order] if keys else np.zeros(0)
        slots_a = np.asarray(slots, dtype=np.int64)[a_order] if ids else np.zeros(0, np.int64)
        room_a = np.asarray(room, dtype=np.float64)[a_order] if ids else np.zeros(0)
        step_a = np.asarray(step, dtype=np.float64)[a_order] if ids else np.zeros(0)
        pt = t_rank[np.asarray(pair_ticket, dtype=np.int64)] if len(pair_ticket) else np.zeros(0, np.int64)
        pa = a_rank[np.asarray(pair_agent, dtype=np.int64)] if len(pair_agent) else np.zeros(0, np.int64)
        pv = np.asarray(pair_value, dtype=np.float64)
        usable = (pv > 0) & np.isfinite(pv)
        if len(pt):
            usable &= (slots_a[pa] > 0) & (hours_a[pt] <= room_a[pa] + EPS)
        pt, pa, pv = pt[usable], pa[usable], pv[usable]
        key = pt * max(len(ids), 1) + pa
        if len(key) > 1 and not np.all(key[1:] > key[:-1]):  # already in (ticket, agent) order: skip the sort
            order = np.argsort(key, kind="stable")
            pt, pa, pv, key = pt[order], pa[order], pv[order], key[order]
            if np.any(key[1:] == key[:-1]):
                raise ValueError("a ticket-agent pair is given twice")
        ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pt, minlength=len(keys)), out=ptr[1:])
        if priority is None:
            best = np.zeros(len(keys), dtype=np.float64)
            np.maximum.at(best, pt, pv)
            priority_a = best
        else:
            priority_a = np.asarray(priority, dtype=np.float64)[t_order] if keys else np.zeros(0)
        held_a = np.asarray(held_hours, dtype=np.float64)[a_order] if held_hours is not None else np.zeros(len(ids))
        capacity_a = np.asarray(capacity, dtype=np.float64)[a_order] if capacity is not None else room_a + held_a
        return cls(
            ticket_keys=[keys[k] for k in t_order],
            agent_ids=[ids[k] for k in a_order],
            hours=hours_a,
            slots=slots_a,
            room=room_a,
            step=step_a,
            ptr=ptr,
            pair_agent=pa,
            pair_value=pv,
            priority=priority_a,
            held_hours=held_a,
            capacity=capacity_a,
        )

    def agents_of(self, j: int) -> IntArray:
        return self.pair_agent[self.ptr[j] : self.ptr[j + 1]]

    def values_of(self, j: int) -> FloatArray:
        return self.pair_value[self.ptr[j] : self.ptr[j + 1]]

    def value(self, j: int, i: int) -> float:
        """v_ij, or 0 when the pair is not eligible."""
        agents = self.agents_of(j)
        k = int(np.searchsorted(agents, i))
        return float(self.values_of(j)[k]) if k < len(agents) and agents[k] == i else 0.0

    def pair_values(self, agent_of: IntArray) -> FloatArray:
        """v of each ticket's assigned pair (0 for unassigned or ineligible)."""
        result = np.zeros(self.n, dtype=np.float64)
        chosen = np.nonzero(agent_of >= 0)[0]
        if not len(chosen) or not len(self.pair_value):
            return result
        keys = self.pair_ticket * max(self.m, 1) + self.pair_agent  # ascending: pairs are (ticket, agent) sorted
        wanted = chosen * max(self.m, 1) + agent_of[chosen]
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[at] == wanted
        result[chosen[found]] = self.pair_value[at[found]]
        return result

    def subset(self, tickets: IntArray, agents: IntArray) -> Problem:
        """The sub-instance on these tickets and agents (indices ascending), pairs between them only."""
        t_local = np.full(self.n, -1, dtype=np.int64)
        t_local[tickets] = np.arange(len(tickets))
        a_local = np.full(self.m, -1, dtype=np.int64)
        a_local[agents] = np.arange(len(agents))
        pt = self.pair_ticket
        keep = (t_local[pt] >= 0) & (a_local[self.pair_agent] >= 0)
        new_t, new_a, new_v = t_local[pt[keep]], a_local[self.pair_agent[keep]], self.pair_value[keep]
        ptr = np.zeros(len(tickets) + 1, dtype=np.int64)
        np.cumsum(np.bincount(new_t, minlength=len(tickets)), out=ptr[1:])
        return Problem(
            ticket_keys=[self.ticket_keys[k] for k in tickets.tolist()],
            agent_ids=[self.agent_ids[k] for k in agents.tolist()],
            hours=self.hours[tickets],
            slots=self.slots[agents],
            room=self.room[agents],
            step=self.step[agents],
            ptr=ptr,
            pair_agent=new_a,
            pair_value=new_v,
            priority=self.priority[tickets],
            held_hours=self.held_hours[agents],
            capacity=self.capacity[agents],
        )


def agent_total(values: Sequence[float], step: float) -> float:
    """An agent's share of the objective: its new tickets' values, best first, x (1 - step x rank)."""
    return sum(v * (1.0 - step * r) for r, v in enumerate(sorted(values, reverse=True)))


def slot_factors(problem: Problem, agent_of: IntArray) -> FloatArray:
    """Each assigned ticket's slot factor 1 - step x rank (rank among its agent's new tickets by value)."""
    factors = np.zeros(problem.n, dtype=np.float64)
    chosen = np.nonzero(agent_of >= 0)[0]
    if not len(chosen):
        return factors
    values = problem.pair_values(agent_of)
    agents = agent_of[chosen]
    order = np.lexsort((chosen, -values[chosen], agents))
    sorted_agents = agents[order]
    first = np.searchsorted(sorted_agents, sorted_agents, side="left")
    rank = np.arange(len(order)) - first
    factors[chosen[order]] = 1.0 - problem.step[sorted_agents] * rank
    return factors


def objective(problem: Problem, agent_of: IntArray) -> float:
    """The model objective of a plan: sum of value x slot factor (see the module docstring)."""
    return float((problem.pair_values(agent_of) * slot_factors(problem, agent_of)).sum())


def violations(problem: Problem, agent_of: IntArray) -> list[str]:
    """Every broken constraint of a plan, in words (empty: the plan is valid)."""
    found = []
    if len(agent_of) != problem.n:
        return [f"the plan covers {len(agent_of)} tickets, the problem has {problem.n}"]
    for j in np.nonzero(agent_of >= 0)[0].tolist():
        i = int(agent_of[j])
        if i >= problem.m or problem.value(j, i) <= 0:
            found.append(f"{problem.ticket_keys[j]} given to an agent not eligible for it")
    assigned = agent_of[agent_of >= 0]
    counts = np.bincount(assigned, minlength=problem.m) if problem.m else np.zeros(0, np.int64)
    hours = np.bincount(assigned, weights=problem.hours[agent_of >= 0], minlength=problem.m) if problem.m else counts
    for i in range(problem.m):
        if counts[i] > problem.slots[i]:
            found.append(f"{problem.agent_ids[i]} gets {counts[i]} tickets, room for {problem.slots[i]}")
        if hours[i] > problem.room[i] + 1e-6:
            found.append(f"{problem.agent_ids[i]} gets {hours[i]:.2f} h, room for {problem.room[i]:.2f} h")
    return found


def resolve_conflicts(problem: Problem, agent_of: IntArray) -> tuple[IntArray, list[int]]:
    """Make a plan valid by dropping pairs: ineligible ones, then each over-full agent's lowest-value
    tickets until it fits. Returns the plan and the tickets dropped."""
    plan = agent_of.copy()
    dropped = []
    values = problem.pair_values(plan)
    for j in np.nonzero((plan >= 0) & (values <= 0))[0].tolist():
        plan[j] = -1
        dropped.append(j)
    for i in range(problem.m):
        mine = list(np.nonzero(plan == i)[0].tolist())
        mine.sort(key=lambda j: (values[j], -j))
        used = float(problem.hours[mine].sum()) if mine else 0.0
        while mine and (len(mine) > problem.slots[i] or used > problem.room[i] + 1e-6):
            j = mine.pop(0)
            used -= float(problem.hours[j])
            plan[j] = -1
            dropped.append(j)
    return plan, sorted(dropped)


@dataclass(slots=True)
class Solution:
    """A plan over a canonical `Problem`: `agent_of[j]` is ticket j's agent index or -1."""

    agent_of: IntArray
    strategy: str
    solver: str
    objective: float
    notes: list[str] = field(default_factory=list)
    fallback: bool = False


def solve(problem: Problem, strategy: str = "optimal", search_budget: int | None = None) -> Solution:
    """Plan with `strategy`; every result is validated (and repaired by dropping pairs if needed)."""
    from taskdist.assignment_baselines import BASELINES

    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    notes: list[str] = []
    fallback = False
    if strategy == "optimal":
        plan, solver, fallback = _optimal(problem, notes, search_budget)
    else:
        plan = BASELINES[strategy](problem)
        solver = strategy
    broken = violations(problem, plan)
    if broken:
        plan, dropped = resolve_conflicts(problem, plan)
        notes.append(f"validation failed ({broken[0]}); dropped the lowest-value pairs: {len(dropped)} tickets")
    return Solution(plan, strategy, solver, objective(problem, plan), notes, fallback)


def _optimal(problem: Problem, notes: list[str], budget: int | None) -> tuple[IntArray, str, bool]:
    from taskdist.assignment_baselines import greedy
    from taskdist.assignment_search import local_search
    from taskdist.assignment_solvers import slot_solve

    fallback = False
    try:
        plan, solver = slot_solve(problem)
    except (ValueError, MemoryError, FloatingPointError, RuntimeError) as exc:
        notes.append(f"the slot solver failed ({type(exc).__name__}: {exc}); greedy plan used instead")
        plan, solver, fallback = greedy(problem), "greedy-fallback", True
    plan = local_search(problem, plan, budget)
    if len(problem.pair_value) > LARGE_PAIRS:
        # At this size greedy's pass over every pair costs a third of the solve and has never come
        # close (`make bench` reports both): the comparison is left to the benchmark.
        return plan, solver, fallback
    # Never below greedy: its plan is the seed of a second search on small instances solved by a
    # heuristic (column generation already started from it), and on larger ones it is searched only
    # when it beats the slot solve outright.
    seed = greedy(problem)
    heuristic = "priced" in solver or "layered" in solver
    if objective(problem, seed) > objective(problem, plan) + EPS or (
        heuristic and len(problem.pair_value) <= SMALL_PAIRS
    ):
        seeded = local_search(problem, seed, budget)
        if objective(problem, seeded) > objective(problem, plan) + EPS:
            notes.append("the greedy seed improved by local search beat the slot solve; kept it")
            plan, solver = seeded, f"{solver}+greedy-seed"
    return plan, solver, fallback
