"""The baselines the optimizer is compared with (`--strategy`, `simulate`), under the same constraints.

- greedy: the best pair first (highest priority x compatibility), while ticket and agent are free;
- round-robin: tickets by priority, each to the next agent in id order, cyclically, that can take it;
- least-loaded: tickets by priority, each to the eligible agent with the lowest utilization
  ((hours held + hours given) / capacity), ties by id.

Each gives a ticket only to an eligible agent with a free slot and the hours for it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from taskdist.assignment import EPS, IntArray, Problem


class _Room:
    """Slots and hours left per agent while a baseline hands out tickets."""

    def __init__(self, problem: Problem) -> None:
        self.slots: list[int] = problem.slots.astype(np.int64).tolist()
        self.hours: list[float] = problem.room.astype(np.float64).tolist()
        self.given = [0.0] * problem.m

    def fits(self, i: int, hours: float) -> bool:
        return self.slots[i] > 0 and hours <= self.hours[i] + EPS

    def take(self, i: int, hours: float) -> None:
        self.slots[i] -= 1
        self.hours[i] -= hours
        self.given[i] += hours


def _by_priority(problem: Problem) -> list[int]:
    """Tickets with at least one eligible agent, highest priority first (ties by key order)."""
    has = np.diff(problem.ptr) > 0
    rows = np.nonzero(has)[0]
    ordered: list[int] = rows[np.lexsort((rows, -problem.priority[rows]))].tolist()
    return ordered


def greedy(problem: Problem) -> IntArray:
    """Best pair first."""
    plan = np.full(problem.n, -1, dtype=np.int64)
    if not len(problem.pair_value):
        return plan
    pt = problem.pair_ticket
    order = np.lexsort((problem.pair_agent, pt, -problem.pair_value))
    slots = problem.slots.astype(np.int64).tolist()
    left = problem.room.astype(np.float64).tolist()
    hours = problem.hours.tolist()
    tickets, agents = pt[order].tolist(), problem.pair_agent[order].tolist()
    open_slots = int(problem.slots.sum())
    taken = [False] * problem.n
    for j, i in zip(tickets, agents, strict=True):
        if taken[j] or slots[i] == 0 or hours[j] > left[i] + EPS:
            continue
        slots[i] -= 1
        left[i] -= hours[j]
        taken[j] = True
        plan[j] = i
        open_slots -= 1
        if open_slots == 0:
            break
    return plan


def round_robin(problem: Problem) -> IntArray:
    """Each ticket, by priority, to the next agent in turn that can take it."""
    plan = np.full(problem.n, -1, dtype=np.int64)
    if problem.m == 0:
        return plan
    room = _Room(problem)
    hours = problem.hours.tolist()
    turn = 0
    for j in _by_priority(problem):
        eligible = set(problem.agents_of(j).tolist())
        for step in range(problem.m):
            i = (turn + step) % problem.m
            if i in eligible and room.fits(i, hours[j]):
                room.take(i, hours[j])
                plan[j] = i
                turn = i + 1
                break
    return plan


def least_loaded(problem: Problem) -> IntArray:
    """Each ticket, by priority, to the least utilized agent that can take it."""
    plan = np.full(problem.n, -1, dtype=np.int64)
    room = _Room(problem)
    hours = problem.hours.tolist()
    held = problem.held_hours.tolist()
    capacity = problem.capacity.tolist()
    for j in _by_priority(problem):
        best, best_load = -1, 0.0
        for i in problem.agents_of(j).tolist():
            if not room.fits(i, hours[j]):
                continue
            load = (held[i] + room.given[i]) / capacity[i] if capacity[i] > 0 else float("inf")
            if best < 0 or load < best_load - 1e-12:
                best, best_load = i, load
        if best >= 0:
            room.take(best, hours[j])
            plan[j] = best
    return plan


BASELINES: dict[str, Callable[[Problem], IntArray]] = {
    "greedy": greedy,
    "round-robin": round_robin,
    "least-loaded": least_loaded,
}
