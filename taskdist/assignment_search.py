"""Local search over a plan: repair hour-capacity violations, fill room, then improve.

The slot solve ignores hours (or, layered, takes them greedily per layer), so a plan may give an
agent more hours than it has room for. The search, always keeping every other constraint:

1. repair: while an agent is over its hours, drop the ticket that costs the least objective per
   hour freed;
2. fill: unassigned tickets, best first, go where they add the most (a free slot and the hours);
3. improve, in passes until nothing improves or the work budget is spent: for each assigned ticket
   the best of moving it to another agent with room, swapping it with a ticket of another agent,
   or moving it to an agent that drops its least valuable ticket to make room ("bump"); for each
   unassigned ticket the best of taking free room or replacing a ticket. A change is made only when
   it raises the objective by more than 1e-9, so the search ends.

The budget counts evaluated changes (not seconds), so results do not depend on the machine.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from taskdist.assignment import EPS, IntArray, Problem, agent_total

DEFAULT_BUDGET = 100_000
# On large instances the slot solve leaves little to gain and each change costs more: a smaller budget.
LARGE_PAIRS = 200_000
LARGE_BUDGET = 5_000


class _State:
    """The plan as per-agent ticket lists with their hours and objective share."""

    def __init__(self, problem: Problem, plan: IntArray) -> None:
        self.problem = problem
        self.agent_of = plan.astype(np.int64).tolist()
        self.members: list[list[int]] = [[] for _ in range(problem.m)]
        for j, i in enumerate(self.agent_of):
            if i >= 0:
                self.members[i].append(j)
        self.hours: list[float] = problem.hours.tolist()
        self.slots: list[int] = problem.slots.tolist()
        self.room: list[float] = problem.room.tolist()
        self.step: list[float] = problem.step.tolist()
        # Slot factors 1 - step x rank all >= 0 (always, unless slot_cost > 1): an agent's share then
        # never rises when one of its tickets is replaced by one worth no more to it, so the search
        # skips those changes (counting them as evaluated, so budgets end where they always did).
        self.monotone = [s * max(k - 1, 0) <= 1.0 for s, k in zip(self.step, self.slots, strict=True)]
        self.used: list[float] = [sum(self.hours[j] for j in tickets) for tickets in self.members]
        self._rows: dict[int, dict[int, float]] = {}
        self.totals = [self.total(i, self.members[i]) for i in range(problem.m)]
        self.evaluations = 0
        self.journal: list[tuple[int, int]] = []  # (ticket, its agent before) of every change

    def row(self, j: int) -> dict[int, float]:
        found = self._rows.get(j)
        if found is None:
            p = self.problem
            found = dict(zip(p.agents_of(j).tolist(), p.values_of(j).tolist(), strict=True))
            self._rows[j] = found
        return found

    def total(self, i: int, tickets: list[int]) -> float:
        return agent_total([self.row(j)[i] for j in tickets], self.step[i])

    def fits(self, i: int, extra_hours: float, extra_tickets: int = 1) -> bool:
        return (
            len(self.members[i]) + extra_tickets <= self.slots[i] and self.used[i] + extra_hours <= self.room[i] + EPS
        )

    def gain_with(self, i: int, tickets: list[int]) -> float:
        self.evaluations += 1
        return self.total(i, tickets) - self.totals[i]

    def assign(self, j: int, i: int) -> None:
        self.journal.append((j, -1))
        self.agent_of[j] = i
        self.members[i].append(j)
        self.used[i] += self.hours[j]
        self.totals[i] = self.total(i, self.members[i])

    def unassign(self, j: int) -> None:
        i = self.agent_of[j]
        self.journal.append((j, i))
        self.agent_of[j] = -1
        self.members[i].remove(j)
        self.used[i] -= self.hours[j]
        self.totals[i] = self.total(i, self.members[i])

    def undo(self, mark: int) -> None:
        """Take back every change after journal position `mark`."""
        while len(self.journal) > mark:
            j, before = self.journal.pop()
            if self.agent_of[j] >= 0:
                self.unassign(j)
                self.journal.pop()
            if before >= 0:
                self.assign(j, before)
                self.journal.pop()


def local_search(problem: Problem, plan: IntArray, budget: int | None = None) -> IntArray:
    """Repair, fill and improve `plan` (a valid plan comes back)."""
    state = _State(problem, plan)
    _repair(state)
    order = _by_best(problem)
    _fill(state, order)
    limit = (DEFAULT_BUDGET if len(problem.pair_value) <= LARGE_PAIRS else LARGE_BUDGET) if budget is None else budget
    candidates: list[list[int]] | None = None
    rank: list[int] = []
    while state.evaluations < limit:
        changed = _improve_assigned(state, limit)
        changed |= _improve_unassigned(state, order, limit)
        if not changed and state.evaluations < limit:
            if candidates is None:
                candidates = _candidates(problem)
                rank = [problem.n] * problem.n
                for r, j in enumerate(order):
                    rank[j] = r
            changed = _replan_agents(state, rank, candidates, limit)
        if not changed:
            break
        state.journal.clear()
    return np.array(state.agent_of, dtype=np.int64)


def _candidates(problem: Problem) -> list[list[int]]:
    """Each agent's eligible tickets by value, highest first (ties by index)."""
    order = np.lexsort((problem.pair_ticket, -problem.pair_value, problem.pair_agent))
    starts = np.searchsorted(problem.pair_agent[order], np.arange(problem.m + 1))
    tickets = problem.pair_ticket[order]
    return [tickets[starts[i] : starts[i + 1]].tolist() for i in range(problem.m)]


def _refill(state: _State, rank: list[int], candidates: list[list[int]], losers: list[int], freed: list[int]) -> None:
    """After a re-plan, the only new room is with the agents that gave up tickets, and the only newly
    free tickets are the ones dropped: those, and the free candidates of those agents, best first,
    go where they add the most."""
    pool = set(freed)
    for a in losers:
        pool.update(j for j in candidates[a] if state.agent_of[j] < 0)
    for j in sorted(pool, key=rank.__getitem__):
        if state.agent_of[j] >= 0:
            continue
        where = _best_fit(state, j, state.row(j))
        if where >= 0:
            state.assign(j, where)


def _best_fit(state: _State, j: int, agents: Iterable[int]) -> int:
    """The agent among `agents` with room for ticket j whose share gains most by taking it (more than
    EPS), or -1."""
    best, where = EPS, -1
    for i in agents:
        if state.fits(i, state.hours[j]):
            gain = state.gain_with(i, [*state.members[i], j])
            if gain > best:
                best, where = gain, i
    return where


def _replan_agents(state: _State, rank: list[int], candidates: list[list[int]], limit: int) -> bool:
    """For each agent, its best set of tickets, exactly (`assignment_columns.best_sets`): any of its
    candidates, those held by another agent at the cost of what that agent loses. The change is kept,
    with the freed tickets and room refilled, only when the whole plan gains."""
    from taskdist.assignment_columns import best_sets

    changed = False
    for b in range(state.problem.m):
        if state.evaluations >= limit:
            break
        mine = candidates[b]
        if not mine or state.slots[b] <= 0:
            continue
        state.evaluations += len(mine)
        costs = []
        for j in mine:
            a = state.agent_of[j]
            if a < 0 or a == b:
                costs.append(0.0)
            else:
                costs.append(state.totals[a] - state.total(a, [t for t in state.members[a] if t != j]))
        row = [state.row(j)[b] for j in mine]
        found = best_sets(
            np.array(row),
            np.array([state.hours[j] for j in mine]),
            np.array(costs),
            state.slots[b],
            state.room[b],
            state.step[b],
        )
        if not found:
            continue
        net, items = max(found, key=lambda f: f[0])
        if net <= state.totals[b] + EPS:
            continue
        before = sum(state.totals)
        mark = len(state.journal)
        chosen = {mine[k] for k in items}
        freed = [t for t in state.members[b] if t not in chosen]
        for j in freed:
            state.unassign(j)
        losers = set()
        for j in sorted(chosen):
            if state.agent_of[j] != b:
                if state.agent_of[j] >= 0:
                    losers.add(state.agent_of[j])
                    state.unassign(j)
                state.assign(j, b)
        _refill(state, rank, candidates, sorted(losers), freed)
        if sum(state.totals) > before + EPS:
            changed = True
        else:
            state.undo(mark)
    return changed


def _by_best(problem: Problem) -> list[int]:
    best = np.zeros(problem.n, dtype=np.float64)
    if len(problem.pair_value):
        np.maximum.at(best, problem.pair_ticket, problem.pair_value)
    rows = np.nonzero(best > 0)[0]
    ordered: list[int] = rows[np.lexsort((rows, -best[rows]))].tolist()
    return ordered


def _repair(state: _State) -> None:
    for i in range(state.problem.m):
        while state.members[i] and (state.used[i] > state.room[i] + EPS or len(state.members[i]) > state.slots[i]):

            def cost(j: int, i: int = i) -> tuple[float, int]:
                loss = state.totals[i] - state.total(i, [t for t in state.members[i] if t != j])
                return (loss / max(state.hours[j], 1e-6), j)

            state.unassign(min(state.members[i], key=cost))


def _fill(state: _State, order: list[int]) -> None:
    p = state.problem
    is_open = np.array([state.fits(i, 0.0) for i in range(p.m)], dtype=bool)
    for j in order:
        if state.agent_of[j] >= 0:
            continue
        agents = p.agents_of(j)
        candidates = agents[is_open[agents]].tolist() if len(agents) else []
        where = _best_fit(state, j, candidates)
        if where >= 0:
            state.assign(j, where)
            is_open[where] = state.fits(where, 0.0)


def _improve_assigned(state: _State, limit: int) -> bool:
    changed = False
    for j in range(state.problem.n):
        a = state.agent_of[j]
        if a < 0:
            continue
        if state.evaluations >= limit:
            break
        h = state.hours[j]
        rest_a = [t for t in state.members[a] if t != j]
        removal = state.gain_with(a, rest_a)
        best, move = EPS, None
        row = state.row(j)
        for b, value_b in row.items():
            if b == a or value_b <= 0:
                continue
            if state.fits(b, h):
                gain = removal + state.gain_with(b, [*state.members[b], j])
                if gain > best:
                    best, move = gain, ("move", b, -1)
                continue
            for j2 in state.members[b]:
                h2 = state.hours[j2]
                fits_b = state.used[b] - h2 + h <= state.room[b] + EPS
                if not fits_b:
                    continue
                value_2 = state.row(j2)[b]
                # Swap: j2 goes to a in j's place.
                if a in state.row(j2) and state.used[a] - h + h2 <= state.room[a] + EPS:
                    if state.monotone[a] and state.monotone[b] and state.row(j2)[a] <= row[a] and value_b <= value_2:
                        state.evaluations += 2  # neither agent gets a better ticket: no gain (see _State)
                    else:
                        gain = state.gain_with(a, [*rest_a, j2]) + state.gain_with(
                            b, [t for t in state.members[b] if t != j2] + [j]
                        )
                        if gain > best:
                            best, move = gain, ("swap", b, j2)
                # Bump: j2 leaves the plan to make room for j.
                if state.monotone[b] and value_b <= value_2:
                    state.evaluations += 1
                    continue
                gain = removal + state.gain_with(b, [t for t in state.members[b] if t != j2] + [j])
                if gain > best:
                    best, move = gain, ("bump", b, j2)
        if move is None:
            continue
        kind, b, j2 = move
        state.unassign(j)
        if kind == "swap":
            state.unassign(j2)
            state.assign(j2, a)
        elif kind == "bump":
            state.unassign(j2)
        state.assign(j, b)
        changed = True
    return changed


def _improve_unassigned(state: _State, order: list[int], limit: int) -> bool:
    changed = False
    for j in order:
        if state.agent_of[j] >= 0:
            continue
        if state.evaluations >= limit:
            break
        h = state.hours[j]
        best, move = EPS, None
        for b, value_b in state.row(j).items():
            if state.fits(b, h):
                gain = state.gain_with(b, [*state.members[b], j])
                if gain > best:
                    best, move = gain, (b, -1)
                continue
            for j2 in state.members[b]:
                if state.used[b] - state.hours[j2] + h > state.room[b] + EPS:
                    continue
                if state.monotone[b] and value_b <= state.row(j2)[b]:
                    state.evaluations += 1  # a ticket worth no more to b: no gain (see _State)
                    continue
                gain = state.gain_with(b, [t for t in state.members[b] if t != j2] + [j])
                if gain > best:
                    best, move = gain, (b, j2)
        if move is None:
            continue
        b, j2 = move
        if j2 >= 0:
            state.unassign(j2)
        state.assign(j, b)
        changed = True
    return changed


def _with(values: list[float], step: float, add: float | None = None, drop: float | None = None) -> float:
    """An agent's objective share after dropping one value and/or adding one (values sorted, best first)."""
    kept = list(values)
    if drop is not None:
        kept.remove(drop)
    if add is not None:
        kept.append(add)
        kept.sort(reverse=True)
    return sum(v * (1.0 - step * r) for r, v in enumerate(kept))


def runner_ups(problem: Problem, plan: IntArray, candidates: int = 3) -> list[tuple[int, float] | None]:
    """For each assigned ticket: the other agent whose switch costs the plan least, and that cost.

    A switch moves the ticket to agent b with nothing else re-planned, except that when b has no free
    slot or hours, b drops its least valuable ticket whose removal makes room (the "bump" move of the
    search). The cost is the objective lost (negative would mean the switch gains). Only the
    `candidates` other eligible agents with the highest value for the ticket are tried: the cheapest
    switch is among them in practice, and it keeps this linear in the size of the plan.
    """
    values = problem.pair_values(plan)
    step = problem.step.tolist()
    hours = problem.hours.tolist()
    room = problem.room.tolist()
    slots = problem.slots.tolist()
    members: list[list[int]] = [[] for _ in range(problem.m)]
    for j in np.nonzero(plan >= 0)[0].tolist():
        members[int(plan[j])].append(j)
    # Per agent: its tickets by value (best first), their values, its hours used and objective share.
    ranked = [sorted(tickets, key=lambda t: (-values[t], t)) for tickets in members]
    sorted_values = [[float(values[t]) for t in tickets] for tickets in ranked]
    used = [sum(hours[t] for t in tickets) for tickets in members]
    share = [_with(v, step[i]) for i, v in enumerate(sorted_values)]
    result: list[tuple[int, float] | None] = [None] * problem.n
    for j in np.nonzero(plan >= 0)[0].tolist():
        a = int(plan[j])
        agents, pair_values = problem.agents_of(j), problem.values_of(j)
        if len(agents) < 2:
            continue
        order = np.lexsort((agents, -pair_values))
        h = hours[j]
        removal = _with(sorted_values[a], step[a], drop=float(values[j])) - share[a]
        best: tuple[int, float] | None = None
        tried = 0
        for q in order.tolist():
            b = int(agents[q])
            if b == a:
                continue
            if tried == candidates:
                break
            tried += 1
            value = float(pair_values[q])
            if len(members[b]) < slots[b] and used[b] + h <= room[b] + EPS:
                added = _with(sorted_values[b], step[b], add=value) - share[b]
            else:
                out = next((w for w in reversed(ranked[b]) if used[b] - hours[w] + h <= room[b] + EPS), None)
                if out is None:
                    continue
                added = _with(sorted_values[b], step[b], add=value, drop=float(values[out])) - share[b]
            loss = -(removal + added)
            if best is None or loss < best[1] - 1e-12:
                best = (b, loss)
        result[j] = best
    return result
