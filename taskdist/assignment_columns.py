"""Column generation: the optimizer's solve for components whose hour limits bind.

Why. With hours, each agent's share of the model is a small knapsack (a few tickets out of many that
must fit its hours). The slot solve with the hours priced in (a Lagrangian on the hours, whose bound is
the LP relaxation's, 1-4% above the optimum on tight instances) followed by a repair ended up to 2.8%
below `scipy.optimize.milp`'s optimum on random instances of a few hundred tickets. Here each agent's
knapsack is solved exactly and the agents are coordinated through ticket prices (Dantzig-Wolfe
decomposition into a set-packing master, the classic approach to the generalized assignment problem):

- a **column** is one agent with a set of tickets that fits its slots and hours, worth its share of
  the objective (values best first x slot factors);
- **pricing** (`best_sets`): given a price u_j per ticket, each agent's best sets by value minus
  prices, by an exact dynamic program over the agent's candidates;
- **warm-up**: `WARMUP` Lagrangian subgradient steps on u (no LP), each adding the priced sets as
  columns (the first master LPs over only the seed plans' columns are degenerate: their duals say
  little);
- **master LP** (`scipy.optimize.linprog`, HiGHS): at most one column per agent, each ticket at most
  once; its duals are the next prices (smoothed toward the prices of the best bound so far, Wentges),
  and the priced sets worth more than the agent's dual become columns. Repeated until no agent has a
  better column, the Lagrangian bound (sum of u + each agent's best net) is within `CONVERGED` of the
  LP, or `ROUNDS` / the work budget is spent;
- **integer plans** from the last LP: rounding (columns by LP value) and a dive (fix the integral
  columns and the largest fractional one, re-solve; `DIVE_LPS` at most); the caller improves them by
  local search, then `master_milp` solves the master as a MILP over the columns that reduced-cost
  fixing leaves (those that can still be in a better plan), when they are few (`MILP_COLUMNS`).

Everything is deterministic: tickets and agents come in the canonical order of `Problem`, HiGHS is
deterministic, every tie is broken by index, and the budgets count rounds, pairs, columns and nodes,
not seconds (the MILP's time limit is a safety net that the measurements never reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from taskdist.assignment import EPS, FloatArray, IntArray, Problem, agent_total, objective

WARMUP = 10  # Lagrangian subgradient steps before the first LP
ROUNDS = 15  # at most this many master LPs
WORK_BUDGET = 1_000_000  # candidate pairs priced, summed over warm-up and rounds (caps big components)
CONVERGED = 1e-4  # the bound within this fraction of the LP: no column can add more
SMOOTHING = 0.7  # price at 0.7 x the best-bound prices + 0.3 x the LP's (Wentges): fewer rounds
DIVE_LPS = 40
IPM_COLUMNS = 1_500  # LPs with more columns go to HiGHS's interior point method (2-5x faster there)
MILP_COLUMNS = 300  # the master MILP only over this many columns at most (its root stays < 0.2 s)
NODE_LIMIT = 200
MILP_SAFETY_SECONDS = 10.0
PIVOTS = 256  # dominators of a candidate are looked for among the best this many (pricing's pruning)
STATES = 256  # Pareto states kept per ticket count in pricing (beyond it pricing is a heuristic)

# A set under construction: its last item and the chain before it (linked, so states share prefixes).
_Chain: TypeAlias = "tuple[int, _Chain] | None"
_State: TypeAlias = tuple[float, float, _Chain]  # (hours, net, chain)
_hours = itemgetter(0)


def best_sets(
    value: FloatArray, hours: FloatArray, cost: FloatArray, slots: int, room: float, step: float
) -> list[tuple[float, list[int]]]:
    """Sets of items of high net = sum of value x (1 - step x rank) - sum of cost, rank by value.

    `value` must be sorted descending (ties in a fixed order). A set has at most `slots` items and at
    most `room` hours. Returns (net, item positions) of the best set of each size among the sizes that
    can still beat the best set found (the best of all is always there; nets > 0 only). Exact as long
    as no Pareto front exceeds `STATES` states (a dynamic program over the items in order, one front
    of (hours, net) per size).

    Reductions: an item whose value does not exceed its cost never helps (a later rank only lowers the
    value); an item dominated (earlier in the order, hours <=, cost <=) by `slots` others can be
    swapped for one of them in any set, so it is dropped; a state that cannot beat the best set even
    with the best items left is dropped; and when the best set by count alone fits the hours, it is
    the answer (`_ignoring_hours`).
    """
    if step > 0:
        slots = min(slots, int(np.ceil(1.0 / step - 1e-9)))  # a rank whose factor is <= 0 never helps
    if slots <= 0 or not len(value):
        return []
    useful = np.nonzero(value - cost > 1e-12)[0]
    if not len(useful):
        return []
    v, h, c = value[useful], hours[useful], cost[useful]
    if len(useful) > slots:
        keep = _undominated(h, c, slots)
        useful, v, h, c = useful[keep], v[keep], h[keep], c[keep]
    vl, hl, cl, ul = v.tolist(), h.tolist(), c.tolist(), useful.tolist()
    loose = _ignoring_hours(vl, hl, cl, ul, slots, room, step)
    if loose is not None:
        return loose
    # ahead[t][r]: the sum of the r largest value - cost among items t.. (an optimistic completion).
    count = len(vl)
    ahead = [[0.0] * (slots + 1) for _ in range(count + 1)]
    running: list[float] = []
    for t in range(count - 1, -1, -1):
        running.append(vl[t] - cl[t])
        running.sort(reverse=True)
        del running[slots:]
        row = ahead[t]
        for r, gain in enumerate(running, start=1):
            row[r] = row[r - 1] + gain
        for r in range(len(running) + 1, slots + 1):
            row[r] = row[r - 1]
    # fronts[k]: states with k items as (hours, net, chain), hours ascending and net strictly rising;
    # a state that cannot beat the best net found even with the best remaining items is dropped.
    fronts: list[list[_State]] = [[(0.0, 0.0, None)], *([] for _ in range(slots))]
    limit = room + EPS
    best = 0.0
    for t in range(count):
        vt, ht, ct, ut = vl[t], hl[t], cl[t], ul[t]
        after = ahead[t + 1]
        for k in range(min(slots - 1, t), -1, -1):
            below = fronts[k]
            if not below:
                continue
            gain = vt * (1.0 - step * k) - ct
            if gain <= 1e-12 or ht > limit:
                continue
            hope = gain + after[slots - k - 1] - best + 1e-12
            grown: list[_State] = [
                (hh + ht, net + gain, (ut, chain)) for hh, net, chain in below if hh + ht <= limit and net + hope >= 0
            ]
            if not grown:
                continue
            best = max(best, grown[-1][1])
            fronts[k + 1] = _merge(fronts[k + 1], grown)
        if t % 8 == 7:
            # Prune what can no longer win (cheap enough every few items).
            for k in range(1, slots):
                reach = after[slots - k] - best + 1e-12
                fronts[k] = [state for state in fronts[k] if state[1] + reach >= 0]
    result = []
    for k in range(1, slots + 1):
        if not fronts[k]:
            continue
        _, net, chain = fronts[k][-1]  # the front's last state has the highest net
        if net <= 1e-12:
            continue
        result.append((net, _items(chain)))
    return result


def _undominated(hours: FloatArray, cost: FloatArray, slots: int) -> npt.NDArray[np.bool_]:
    """Items (in value order) with fewer than `slots` dominators among the first `PIVOTS` items: earlier,
    no more hours, no more cost. Counting among fewer candidates only keeps more items (still exact);
    it keeps the work linear in the number of items."""
    pivots = min(len(hours), PIVOTS)
    ph, pc = hours[:pivots], cost[:pivots]
    keep = np.ones(len(hours), dtype=bool)
    for start in range(0, len(hours), 4096):
        h, c = hours[start : start + 4096, None], cost[start : start + 4096, None]
        earlier = np.arange(start, start + len(h))[:, None] > np.arange(pivots)[None, :]
        dominated = earlier & (ph[None, :] <= h + 1e-12) & (pc[None, :] <= c + 1e-12)
        keep[start : start + len(h)] = dominated.sum(axis=1) < slots
    return keep


def _items(chain: _Chain) -> list[int]:
    """The items of a chain, in the order they were added."""
    items: list[int] = []
    while chain is not None:
        items.append(chain[0])
        chain = chain[1]
    return items[::-1]


def _merge(old: list[_State], new: list[_State]) -> list[_State]:
    """Merge two fronts (hours ascending, net strictly rising) into one without dominated states."""
    if not old:
        return new
    front: list[_State] = []
    top = -np.inf
    # Two sorted runs: Timsort merges them in one linear pass (in C).
    for state in sorted(old + new, key=_hours):
        if state[1] > top + 1e-12:
            if front and state[0] == front[-1][0]:
                front[-1] = state  # same hours, more net
            else:
                front.append(state)
            top = state[1]
    if len(front) > STATES:
        # Keep the best by net (always the last) and spread the rest evenly: a heuristic beyond here.
        pick = np.unique(np.linspace(0, len(front) - 1, STATES).round().astype(np.int64))
        front = [front[k] for k in pick.tolist()]
    return front


def _ignoring_hours(
    v: list[float], h: list[float], c: list[float], u: list[int], slots: int, room: float, step: float
) -> list[tuple[float, list[int]]] | None:
    """`best_sets` by ticket count alone (a plain dynamic program), when its best set fits the hours
    (it is then the optimum, and each size's best that fits is that size's optimum); else None."""
    best: list[_State | None] = [(0.0, 0.0, None), *([None] * slots)]
    for t in range(len(v)):
        for k in range(min(slots - 1, t), -1, -1):
            below = best[k]
            if below is None:
                continue
            net = below[1] + v[t] * (1.0 - step * k) - c[t]
            here = best[k + 1]
            if here is None or net > here[1] + 1e-12:
                best[k + 1] = (below[0] + h[t], net, (u[t], below[2]))
    found = [(k, state) for k, state in enumerate(best) if k and state is not None and state[1] > 1e-12]
    if not found:
        return []
    top = max(found, key=lambda ks: (ks[1][1], -ks[0]))[1]
    if top[0] > room + EPS:
        return None
    result = []
    for _, (hours, net, chain) in found:
        if hours > room + EPS:
            continue
        result.append((net, _items(chain)))
    return result


class _Columns:
    """The master's columns: an agent and its tickets (ascending), worth the agent's objective share."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.index: dict[tuple[int, tuple[int, ...]], int] = {}
        self.agent: list[int] = []
        self.tickets: list[tuple[int, ...]] = []
        self.value: list[float] = []

    def add(self, agent: int, tickets: list[int]) -> int:
        """The column's index (a new one, or the one it already has); -1 for an empty set."""
        key = (agent, tuple(sorted(tickets)))
        if not tickets:
            return -1
        known = self.index.get(key)
        if known is not None:
            return known
        p = self.problem
        self.index[key] = len(self.agent)
        self.agent.append(agent)
        self.tickets.append(key[1])
        self.value.append(agent_total([p.value(j, agent) for j in key[1]], float(p.step[agent])))
        return len(self.agent) - 1

    def add_plan(self, plan: IntArray) -> None:
        for i in np.unique(plan[plan >= 0]).tolist():
            self.add(i, np.nonzero(plan == i)[0].tolist())

    def matrix(self) -> Any:
        """Rows: tickets, then agents; a one where a column uses the row (scipy CSC)."""
        import scipy.sparse as sp

        p = self.problem
        sizes = np.fromiter((len(t) for t in self.tickets), np.int64, len(self.tickets))
        rows = np.concatenate(
            [
                np.fromiter((j for t in self.tickets for j in t), np.int64, int(sizes.sum())),
                p.n + np.array(self.agent, dtype=np.int64),
            ]
        )
        cols = np.concatenate([np.repeat(np.arange(len(sizes)), sizes), np.arange(len(sizes))])
        return sp.csc_array((np.ones(len(rows)), (rows, cols)), shape=(p.n + p.m, len(sizes)))

    def plan(self, chosen: list[int]) -> IntArray:
        result = np.full(self.problem.n, -1, dtype=np.int64)
        for c in chosen:
            result[list(self.tickets[c])] = self.agent[c]
        return result


@dataclass(slots=True)
class Generated:
    """What column generation found: integer plans to improve, the Lagrangian bound on the optimum
    (exact while pricing was), rounds and columns, and the master with its last LP's value and
    each column's reduced cost (for `master_milp`)."""

    plans: list[IntArray]
    bound: float
    rounds: int
    count: int
    master: _Columns
    reduced: FloatArray
    relaxed: float


class _Pricing:
    """Each agent's candidates (tickets by value, highest first, ties by index) and limits."""

    def __init__(self, problem: Problem) -> None:
        p = problem
        order = np.lexsort((p.pair_ticket, -p.pair_value, p.pair_agent))
        starts = np.searchsorted(p.pair_agent[order], np.arange(p.m + 1))
        self.ticket = [p.pair_ticket[order[starts[i] : starts[i + 1]]] for i in range(p.m)]
        self.value = [p.pair_value[order[starts[i] : starts[i + 1]]] for i in range(p.m)]
        self.hours = [p.hours[t] for t in self.ticket]
        self.slots: list[int] = np.minimum(p.slots, np.diff(starts)).tolist()
        self.room: list[float] = p.room.tolist()
        self.step: list[float] = p.step.tolist()
        self.agents = [i for i in range(p.m) if self.slots[i] > 0]

    def sets(self, i: int, price: FloatArray) -> list[tuple[float, IntArray, float]]:
        """Agent i's best sets at these ticket prices (`best_sets`): (net, tickets, objective share)."""
        tickets, value, step = self.ticket[i], self.value[i], self.step[i]
        found = best_sets(value, self.hours[i], price[tickets], self.slots[i], self.room[i], step)
        return [(net, tickets[items], agent_total(value[items].tolist(), step)) for net, items in found]


def column_generation(problem: Problem, seeds: list[IntArray]) -> Generated:
    """Generate columns from the seed plans (see the module docstring) and round the last master LP."""
    p = problem
    columns = _Columns(p)
    for plan in seeds:
        columns.add_plan(plan)
    pricing = _Pricing(p)
    budget = max(3, WORK_BUDGET // max(1, len(p.pair_value)))
    target = max([objective(p, plan) for plan in seeds] + [0.0])
    bound, center = _warm_up(pricing, columns, target, min(WARMUP, budget))
    rounds = 0
    lp, solved = None, -1
    while rounds < min(ROUNDS, max(1, budget - WARMUP)):
        rounds += 1
        lp, solved = _master(columns), len(columns.value)
        if lp.status != 0:
            break
        relaxed = -float(lp.fun)
        dual = np.maximum(0.0, -np.asarray(lp.ineqlin.marginals))
        price, agent_price = dual[: p.n], dual[p.n :]
        added = False
        # Price at the smoothed point first; if it finds nothing the LP's own duals decide.
        for alpha in (SMOOTHING, 0.0) if center is not None else (0.0,):
            at = price if center is None or alpha == 0.0 else alpha * center + (1 - alpha) * price
            lagrangian = float(at.sum())
            for i in pricing.agents:
                sets = pricing.sets(i, at)
                if not sets:
                    continue
                lagrangian += max(found[0] for found in sets)
                for _net, tickets, share in sets:
                    worth = share - float(price[tickets].sum())
                    if worth - agent_price[i] > 1e-9 * max(1.0, abs(worth)):
                        added |= columns.add(i, tickets.tolist()) >= solved
            if lagrangian < bound:
                bound, center = lagrangian, at
            if added:
                break
        if not added or bound - relaxed <= CONVERGED * max(1.0, relaxed):
            break
    if lp is None or lp.status != 0 or solved != len(columns.value):
        lp = _master(columns)  # columns were added after the last LP (or it failed)
    values = np.array(columns.value)
    matrix = columns.matrix()
    plans = []
    reduced = np.zeros(len(values))
    relaxed = 0.0
    if lp.status == 0:
        plans.append(columns.plan(_round(matrix, values, np.asarray(lp.x), np.zeros(p.n + p.m, dtype=bool))))
        plans.append(columns.plan(_dive(matrix, values, np.asarray(lp.x))))
        dual = np.maximum(0.0, -np.asarray(lp.ineqlin.marginals))
        reduced = values - matrix.T @ dual
        relaxed = -float(lp.fun)
    return Generated(plans, bound, rounds, len(values), columns, reduced, relaxed)


def master_milp(found: Generated, incumbent: float) -> IntArray | None:
    """The master MILP over the columns that can be in a plan better than `incumbent` (reduced-cost
    fixing: LP value + a column's reduced cost bounds every plan using it), `NODE_LIMIT` nodes."""
    from scipy.optimize import LinearConstraint, milp

    columns = found.master
    keep = np.nonzero(found.relaxed + found.reduced > incumbent + 1e-9 * max(1.0, incumbent))[0]
    if not len(keep) or len(keep) > MILP_COLUMNS:
        return None
    matrix = columns.matrix()[:, keep]
    result = milp(
        -np.array(columns.value)[keep],
        constraints=LinearConstraint(matrix, -np.inf, np.ones(matrix.shape[0])),
        integrality=np.ones(len(keep)),
        bounds=(0, 1),
        options={"node_limit": NODE_LIMIT, "time_limit": MILP_SAFETY_SECONDS},
    )
    if result.x is None:
        return None
    return columns.plan(keep[np.nonzero(result.x > 0.5)[0]].tolist())


def _master(columns: _Columns) -> Any:
    """The master LP over all the columns so far (HiGHS). (Keeping only each agent's best columns by
    reduced cost in it was tried: the LPs got cheaper but the plans clearly worse.)"""
    from scipy.optimize import linprog

    rows = columns.problem.n + columns.problem.m
    return linprog(
        -np.array(columns.value),
        A_ub=columns.matrix(),
        b_ub=np.ones(rows),
        bounds=(0, None),
        method=_method(len(columns.value)),
    )


def _method(columns: int) -> str:
    """HiGHS's dual simplex for small master LPs, its interior point method (with crossover, so the
    solution is still a vertex) for big ones: simplex needs many degenerate pivots there."""
    return "highs-ipm" if columns > IPM_COLUMNS else "highs"


def _warm_up(pricing: _Pricing, columns: _Columns, target: float, steps: int) -> tuple[float, FloatArray | None]:
    """Subgradient steps on the ticket prices (Polyak, toward `target`); returns the best Lagrangian
    bound and its prices. Every priced set becomes a column."""
    p = columns.problem
    price = np.zeros(p.n)
    bound, center = np.inf, None
    theta = 1.0
    for _ in range(steps):
        lagrangian = float(price.sum())
        taken = np.zeros(p.n)
        for i in pricing.agents:
            sets = pricing.sets(i, price)
            if not sets:
                continue
            top, tickets, _share = max(sets, key=lambda found: found[0])
            lagrangian += top
            taken[tickets] += 1
            for _net, chosen, _ in sets:
                columns.add(i, chosen.tolist())
        if lagrangian < bound:
            bound, center = lagrangian, price.copy()
        direction = np.where((price > 0) | (taken > 1), 1.0 - taken, 0.0)
        norm = float(direction @ direction)
        if norm == 0.0 or lagrangian - target <= CONVERGED * max(1.0, target):
            break
        price = np.maximum(0.0, price - theta * (lagrangian - target) / norm * direction)
        theta *= 0.9
    return bound, center


def _round(matrix: Any, values: FloatArray, y: FloatArray, used: Any) -> list[int]:
    """Columns by LP value (then value, then index), each taken if none of its rows is used yet."""
    order = np.lexsort((np.arange(len(values)), -values, -y))
    chosen = []
    indptr, indices = matrix.indptr, matrix.indices
    for c in order[y[order] > 1e-9].tolist():
        rows = indices[indptr[c] : indptr[c + 1]]
        if not used[rows].any():
            used[rows] = True
            chosen.append(c)
    return chosen


def _dive(matrix: Any, values: FloatArray, y: FloatArray) -> list[int]:
    """Fix the integral columns and the largest fractional one, drop the columns they conflict with,
    re-solve the LP; at most `DIVE_LPS` LPs, then rounding finishes."""
    from scipy.optimize import linprog

    rows = matrix.shape[0]
    used = np.zeros(rows, dtype=bool)
    alive = np.ones(len(values), dtype=bool)
    chosen: list[int] = []
    indptr, indices = matrix.indptr, matrix.indices
    x = y
    for _ in range(DIVE_LPS):
        live = np.nonzero(alive)[0]
        if not len(live):
            return chosen
        whole = live[x > 1 - 1e-6]
        part = (x > 1e-6) & (x <= 1 - 1e-6)
        pick = whole.tolist()
        if part.any():
            ranked = np.lexsort((live, -values[live], -x))
            first = ranked[part[ranked]][0]
            pick.append(int(live[first]))
        for c in pick:
            mine = indices[indptr[c] : indptr[c + 1]]
            if not used[mine].any():
                used[mine] = True
                chosen.append(c)
        if not part.any():
            return chosen
        alive &= (matrix.T @ used.astype(np.float64)) == 0
        live = np.nonzero(alive)[0]
        if not len(live):
            return chosen
        lp = linprog(
            -values[live],
            A_ub=matrix[:, live],
            b_ub=(~used).astype(np.float64),
            bounds=(0, 1),
            method=_method(len(live)),
        )
        if lp.status != 0:
            break
        x = np.asarray(lp.x)
    live = np.nonzero(alive)[0]
    full = np.zeros(len(values))
    full[live] = x if len(x) == len(live) else 0.0
    return chosen + _round(matrix, values, full, used)
