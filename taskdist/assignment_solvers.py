"""Slot solves: the Hungarian-type core of the optimizer (the model is in `assignment.py`).

The eligibility graph is split into connected components first: tickets and agents of different
components never compete, so each is solved alone (exactly, when small enough).

Exact slot solve. Agent i becomes min(slots_i, its candidate tickets) slots; slot k of agent i is
worth v x (1 - step_i x k) for ticket j. A maximum-value matching of tickets to slots is the
optimum of the model without the hour limit (values fall with k, so slots fill in order and the
best tickets take the first slots). Solved as a minimum-cost full matching with
`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) over the eligible pairs only:
rows are tickets (ordered by their best value: LAPJVsp then needs far shorter augmenting paths),
columns are the slots plus one private "not assigned" column per ticket, so a full matching always
exists and leaving a ticket out costs what it would have earned. Cost = C - value, C above every
value (LAPJVsp needs non-zero weights). If it raises, the dense `linear_sum_assignment` on the
tickets x slots matrix is used instead (ineligible cells 0 = not assigned).

Hours. When that plan fits every agent's hours it is optimal. Otherwise (`_with_hours`): tiny
components are solved exactly with `scipy.optimize.milp` (the same model with the hour limits);
components up to `COLUMN_PAIRS` eligible pairs and `COLUMN_AGENTS` agents by column generation
(`assignment_columns`: each agent's knapsack solved exactly, the agents coordinated by ticket
prices; docs/assignment.md has its measured gaps); larger ones by `priced_slots`, which prices the
hour limits in (Lagrangian relaxation with subgradient steps) and repeats the slot solve within a
work budget, keeping the best plan made feasible.

Layered solve, for components above `EXACT_CELLS` tickets x slots (an exact solve there costs
seconds to minutes: LAPJVsp's augmenting paths grow long when thousands of slots want the same
tickets). Layer by layer, every agent with a slot left takes at most one more ticket in an exact
one-slot matching (a ticket must fit the agent's hours left, its value weighted by the agent's next
slot factor); each layer keeps only the tickets that can matter (the best (1 + LAYER_MARGIN) x
agents by value, plus every agent's LAYER_PER_AGENT best). Measured on the 10,000 x 1,000 benchmark
(`make bench`): 0.9 s, 0.7% below the exact slot optimum without the hour limit (an upper bound),
which scipy's dense `linear_sum_assignment` takes 78 s to find. When hours bind hard, layers lose
more (2-4% on tight medium instances, where the priced exact solve is used instead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from taskdist.assignment import EPS, FloatArray, IntArray, Problem

EXACT_CELLS = 4_000_000
LAYER_MARGIN = 0.5
LAYER_PER_AGENT = 3
MILP_VARIABLES = 400
MILP_COMPONENTS = 50  # at most this many exact MILP re-solves per plan
PRICE_ROUNDS = 40
PRICE_PATIENCE = 25
PRICE_EDGE_BUDGET = 2_000_000
MILP_SECONDS = 5.0
# Column generation for components up to this size; its master LPs grow with the agents (1-5 s at
# 120 agents), so larger components keep the priced slot solve (under 1.5 s).
COLUMN_PAIRS = 25_000
COLUMN_AGENTS = 60


def components(problem: Problem) -> list[tuple[IntArray, IntArray]]:
    """(tickets, agents) of each connected component of the eligibility graph that has a pair."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n, m = problem.n, problem.m
    pt = problem.pair_ticket
    if not len(pt):
        return []
    graph = sp.coo_array((np.ones(len(pt)), (pt, n + problem.pair_agent)), shape=(n + m, n + m))
    count, label = connected_components(graph, directed=False)
    has_pair = np.zeros(n + m, dtype=bool)
    has_pair[pt] = True
    has_pair[n + problem.pair_agent] = True
    result = []
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(count + 1))
    for c in range(count):
        members = order[bounds[c] : bounds[c + 1]]
        members = members[has_pair[members]]
        if not len(members):
            continue
        tickets = np.sort(members[members < n])
        agents = np.sort(members[members >= n] - n)
        result.append((tickets.astype(np.int64), agents.astype(np.int64)))
    return result


def slot_solve(problem: Problem) -> tuple[IntArray, str]:
    """Solve every component; returns the plan and which solvers ran (for the report)."""
    plan = np.full(problem.n, -1, dtype=np.int64)
    used: dict[str, int] = {}
    for tickets, agents in components(problem):
        sub = problem.subset(tickets, agents) if len(tickets) < problem.n or len(agents) < problem.m else problem
        slots = _slot_counts(sub)
        if sub.n * int(slots.sum()) <= EXACT_CELLS:
            local, kind = _with_hours(sub, slots, used)
        else:
            local, kind = layered(sub, slots), "layered"
        used[kind] = used.get(kind, 0) + 1
        chosen = local >= 0
        plan[tickets[chosen]] = agents[local[chosen]]
    described = ", ".join(f"{kind} x{count}" for kind, count in sorted(used.items()))
    return plan, f"slots ({described})" if described else "slots (nothing eligible)"


def _with_hours(problem: Problem, slots: IntArray, used: dict[str, int]) -> tuple[IntArray, str]:
    """A component small enough for exact slot solves: the slot optimum if it fits the hours; else, by
    size, the exact MILP, column generation, or the slot solve with the hours priced in."""
    plan, kind = exact_slots(problem, slots)
    chosen = plan >= 0
    hours = np.bincount(plan[chosen], weights=problem.hours[chosen], minlength=problem.m)
    if np.all(hours <= problem.room + EPS):
        return plan, kind
    if _milp_size(problem, slots) <= MILP_VARIABLES and used.get("milp", 0) < MILP_COMPONENTS:
        exact = solve_milp(problem, MILP_SECONDS)
        if exact is not None:
            return exact, "milp"
    if len(problem.pair_value) <= COLUMN_PAIRS and problem.m <= COLUMN_AGENTS:
        return columns(problem, plan), "columns"
    return priced_slots(problem, slots, _rounds(problem, slots))


def columns(problem: Problem, start: IntArray) -> IntArray:
    """Column generation (`assignment_columns`) seeded with the slot optimum repaired and with greedy's
    plan; its integer plans are improved by local search and the best plan of all is kept."""
    from taskdist.assignment import objective
    from taskdist.assignment_baselines import greedy
    from taskdist.assignment_columns import column_generation, master_milp
    from taskdist.assignment_search import local_search

    seeds = [local_search(problem, start, 0), greedy(problem)]
    found = column_generation(problem, seeds)
    best, best_value = seeds[0], objective(problem, seeds[0])
    for plan in [seeds[1], *(local_search(problem, plan) for plan in found.plans)]:
        value = objective(problem, plan)
        if value > best_value + EPS:
            best, best_value = plan, value
    exact = master_milp(found, best_value)
    if exact is not None:
        exact = local_search(problem, exact)
        if objective(problem, exact) > best_value + EPS:
            best = exact
    return best


def _rounds(problem: Problem, slots: IntArray) -> int:
    """Pricing rounds within a work budget: each round is one exact slot solve over all the edges."""
    edges = max(1, int(slots[problem.pair_agent].sum()))
    return int(min(PRICE_ROUNDS, max(3, PRICE_EDGE_BUDGET // edges)))


def _slot_counts(problem: Problem) -> IntArray:
    """Slots worth building per agent: no more than its free slots or its candidate tickets."""
    degree = np.bincount(problem.pair_agent, minlength=problem.m)
    return np.minimum(problem.slots, degree).astype(np.int64)


def _slot_edges(problem: Problem, slots: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """(ticket, slot column, value) for every eligible pair and every slot of its agent."""
    start = np.zeros(problem.m + 1, dtype=np.int64)
    np.cumsum(slots, out=start[1:])
    pa = problem.pair_agent
    copies = slots[pa]
    pair = np.repeat(np.arange(len(pa)), copies)
    first = np.repeat(np.cumsum(copies) - copies, copies)
    k = np.arange(len(pair)) - first
    agent = pa[pair]
    column = start[agent] + k
    value = problem.pair_value[pair] * (1.0 - problem.step[agent] * k)
    return problem.pair_ticket[pair], column, value


def exact_slots(problem: Problem, slots: IntArray | None = None) -> tuple[IntArray, str]:
    """The model's optimum without the hour limit (see the module docstring)."""
    slots = _slot_counts(problem) if slots is None else slots
    if int(slots.sum()) == 0 or not len(problem.pair_value):
        return np.full(problem.n, -1, dtype=np.int64), "exact"
    tickets, column, value = _slot_edges(problem, slots)
    plan = _match_edges(problem, slots, tickets, column, value)
    if plan is None:
        return dense_slots(problem, slots), "dense"
    return plan, "exact"


def _match_edges(
    problem: Problem, slots: IntArray, tickets: IntArray, column: IntArray, weight: FloatArray
) -> IntArray | None:
    """Maximum-weight matching of tickets to slot columns over these edges (weights > 0), by LAPJVsp;
    None if the sparse solver refuses."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    plan = np.full(problem.n, -1, dtype=np.int64)
    if not len(weight):
        return plan
    total = int(slots.sum())
    best = np.zeros(problem.n, dtype=np.float64)
    np.maximum.at(best, tickets, weight)
    rows = np.unique(tickets)
    rows = rows[np.lexsort((rows, -best[rows]))]
    rank = np.full(problem.n, -1, dtype=np.int64)
    rank[rows] = np.arange(len(rows))
    r = len(rows)
    ceiling = float(weight.max()) + 1.0
    graph = sp.csr_array(
        (
            np.concatenate([ceiling - weight, np.full(r, ceiling)]),
            (np.concatenate([rank[tickets], np.arange(r)]), np.concatenate([column, total + np.arange(r)])),
        ),
        shape=(r, total + r),
    )
    try:
        row_of, col_of = min_weight_full_bipartite_matching(graph)
    except ValueError:
        return None
    owner = np.repeat(np.arange(problem.m), slots)
    real = col_of < total
    plan[rows[row_of[real]]] = owner[col_of[real]]
    return plan


def priced_slots(problem: Problem, slots: IntArray | None = None, iterations: int = 40) -> tuple[IntArray, str]:
    """The slot solve with the hour limits priced in (Lagrangian relaxation, subgradient steps).

    Agent i's hours get a price lam_i >= 0: slot values become v x slot factor - lam_i x hours, and the
    exact slot solve is repeated while the prices move toward the hours each agent has (Polyak steps).
    Each solution is made feasible (drop the least value per hour, then fill) and the best kept. The
    first round has all prices 0: when its plan fits the hours it is optimal and the loop ends there;
    it also ends once the best plan is within 1e-9 of the relaxation's bound.
    """
    from taskdist.assignment import objective
    from taskdist.assignment_search import local_search

    slots = _slot_counts(problem) if slots is None else slots
    if int(slots.sum()) == 0 or not len(problem.pair_value):
        return np.full(problem.n, -1, dtype=np.int64), "exact"
    tickets, column, value = _slot_edges(problem, slots)
    owner = np.repeat(np.arange(problem.m), slots)[column]
    hours = problem.hours[tickets]
    price = np.zeros(problem.m, dtype=np.float64)
    best_plan: IntArray | None = None
    best = -np.inf
    bound = np.inf
    theta = 1.0
    stall = 0
    since_better = 0
    kind = "exact"
    for round_ in range(iterations):
        weight = value - price[owner] * hours
        keep = weight > 1e-12
        plan = _match_edges(problem, slots, tickets[keep], column[keep], weight[keep])
        if plan is None:
            return dense_slots(problem, slots), "dense"
        chosen = plan >= 0
        used = np.bincount(plan[chosen], weights=problem.hours[chosen], minlength=problem.m)
        relaxed = _adjusted_total(problem, plan, price) + float(price @ problem.room)
        if relaxed < bound - 1e-12:
            bound, stall = relaxed, 0
        else:
            stall += 1
            if stall >= 4:
                theta, stall = theta / 2, 0
        excess = used - problem.room
        if round_ == 0 and np.all(excess <= EPS):
            return plan, "exact"
        feasible = local_search(problem, plan, 0)
        found = objective(problem, feasible)
        if found > best + 1e-12:
            best, best_plan, since_better = found, feasible, 0
        else:
            since_better += 1
            if since_better >= PRICE_PATIENCE:
                break
        kind = "priced"
        gap = bound - best
        direction = np.where((price > 0) | (excess > 0), excess, 0.0)
        norm = float(direction @ direction)
        if gap <= 1e-9 * max(1.0, abs(best)) or norm <= 1e-18 or theta < 1e-4:
            break
        price = np.maximum(0.0, price + theta * gap / norm * direction)
    assert best_plan is not None
    return best_plan, kind


def _adjusted_total(problem: Problem, plan: IntArray, price: FloatArray) -> float:
    """Sum over the plan of slot-weighted value minus price x hours (the relaxation's value)."""
    from taskdist.assignment import objective

    chosen = plan >= 0
    return objective(problem, plan) - float((price[plan[chosen]] * problem.hours[chosen]).sum())


def dense_slots(problem: Problem, slots: IntArray | None = None) -> IntArray:
    """The same optimum with scipy's dense `linear_sum_assignment` (tickets x slots matrix)."""
    from scipy.optimize import linear_sum_assignment

    slots = _slot_counts(problem) if slots is None else slots
    plan = np.full(problem.n, -1, dtype=np.int64)
    total = int(slots.sum())
    if total == 0 or not len(problem.pair_value):
        return plan
    tickets, column, value = _slot_edges(problem, slots)
    matrix = np.zeros((problem.n, total), dtype=np.float64)
    matrix[tickets, column] = value
    row_of, col_of = linear_sum_assignment(matrix, maximize=True)
    owner = np.repeat(np.arange(problem.m), slots)
    chosen = matrix[row_of, col_of] > 0
    plan[row_of[chosen]] = owner[col_of[chosen]]
    return plan


def _rows_by_best(problem: Problem) -> IntArray:
    """Tickets with a candidate, best value first (ties by index)."""
    best = np.zeros(problem.n, dtype=np.float64)
    np.maximum.at(best, problem.pair_ticket, problem.pair_value)
    rows = np.nonzero(np.diff(problem.ptr) > 0)[0]
    return rows[np.lexsort((rows, -best[rows]))].astype(np.int64)


def layered(problem: Problem, slots: IntArray | None = None) -> IntArray:
    """One exact one-slot matching per layer, each within the hours left (see the module docstring).

    Pairs that can no longer be used (ticket taken, agent full, too few hours left) are dropped after
    each layer, so later layers cost less.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    slots = _slot_counts(problem) if slots is None else slots
    plan = np.full(problem.n, -1, dtype=np.int64)
    hours_left = problem.room.copy()
    given = np.zeros(problem.m, dtype=np.int64)
    pt, pa, pv = problem.pair_ticket, problem.pair_agent, problem.pair_value
    hours = problem.hours[pt]
    # Within one agent the order of its pairs never changes (a layer scales them all alike).
    by_agent = _by_agent(pa, pv)
    for _ in range(int(slots.sum())):
        live = (plan[pt] < 0) & (slots[pa] > given[pa]) & (hours <= hours_left[pa] + EPS)
        if not live.all():
            # Drop dead pairs for good (the ticket order and each agent's order are kept).
            position = np.cumsum(live) - 1
            by_agent = position[by_agent[live[by_agent]]]
            pt, pa, pv, hours = pt[live], pa[live], pv[live], hours[live]
        if not len(pt):
            break
        w = pv * (1.0 - problem.step[pa] * given[pa])
        usable = w > 1e-12
        if not usable.any():
            break
        w = np.where(usable, w, -1.0)
        starts = np.flatnonzero(np.r_[True, pt[1:] != pt[:-1]])
        best = np.full(problem.n, -1.0)
        best[pt[starts]] = np.maximum.reduceat(w, starts)
        wanted = _layer_tickets(best, int(np.count_nonzero(slots > given)))
        in_order = usable[by_agent]
        seen = np.cumsum(in_order)
        agent_sorted = pa[by_agent]
        agent_start = np.searchsorted(agent_sorted, np.arange(problem.m))
        before = np.where(agent_start > 0, seen[np.maximum(agent_start - 1, 0)], 0)
        rank: IntArray = seen - before[agent_sorted]
        favourite = np.zeros(len(pt), dtype=bool)
        favourite[by_agent[in_order & (rank <= LAYER_PER_AGENT)]] = True
        keep = usable & (wanted[pt] | favourite)
        t, a, wk = pt[keep], pa[keep], w[keep]
        rows = np.unique(t)
        rows = rows[np.lexsort((rows, -best[rows]))]
        rank_of = np.full(problem.n, -1, dtype=np.int64)
        rank_of[rows] = np.arange(len(rows))
        r = len(rows)
        ceiling = float(wk.max()) + 1.0
        graph = sp.csr_array(
            (
                np.concatenate([ceiling - wk, np.full(r, ceiling)]),
                (np.concatenate([rank_of[t], np.arange(r)]), np.concatenate([a, problem.m + np.arange(r)])),
            ),
            shape=(r, problem.m + r),
        )
        row_of, col_of = min_weight_full_bipartite_matching(graph)
        real = col_of < problem.m
        if not real.any():
            break
        won_t, won_a = rows[row_of[real]], col_of[real]
        plan[won_t] = won_a
        given[won_a] += 1
        np.subtract.at(hours_left, won_a, problem.hours[won_t])
    return plan


def _by_agent(agent: IntArray, value: FloatArray) -> IntArray:
    """Pair indices by agent, then value (highest first), then ticket (the pairs come in ticket order).

    One stable argsort of a float key instead of a three-key lexsort (4x faster on a million pairs):
    agent 2a + (1 - value / (max + 1)) keeps agents apart and values in order within each."""
    top = float(value.max()) + 1.0 if len(value) else 1.0
    key = 2.0 * agent + (1.0 - value / top)
    return np.argsort(key, kind="stable").astype(np.int64)


def _layer_tickets(best: FloatArray, agents: int) -> npt.NDArray[np.bool_]:
    """The tickets worth a layer by value: the best (1 + LAYER_MARGIN) x agents (ties by index)."""
    wanted = np.zeros(len(best), dtype=bool)
    candidates = np.nonzero(best > 0)[0]
    keep = int(np.ceil((1 + LAYER_MARGIN) * agents))
    if len(candidates) > keep:
        # Everything at least as good as the keep-th best value (so ties never depend on order).
        cut = -np.partition(-best[candidates], keep - 1)[keep - 1]
        candidates = candidates[best[candidates] >= cut]
    wanted[candidates] = True
    return wanted


def _milp_size(problem: Problem, slots: IntArray) -> int:
    return int(slots[problem.pair_agent].sum())


def solve_milp(problem: Problem, seconds: float = MILP_SECONDS) -> IntArray | None:
    """The model with the hour limits solved exactly by HiGHS (None if it did not finish in time).

    Variables x[p, k]: pair p = (j, i) in slot k of agent i; each ticket once, each slot once, each
    agent's hours within its room.
    """
    import scipy.sparse as sp
    from scipy.optimize import LinearConstraint, milp

    slots = _slot_counts(problem)
    plan = np.full(problem.n, -1, dtype=np.int64)
    if not len(problem.pair_value) or int(slots.sum()) == 0:
        return plan
    if not problem.step.any():
        # Without a slot cost the slots are interchangeable: one variable per pair, a count per agent.
        tickets, agent, value = problem.pair_ticket, problem.pair_agent, problem.pair_value
        count = len(value)
        rows = np.concatenate([tickets, problem.n + agent, problem.n + problem.m + agent])
        data = np.concatenate([np.ones(count), np.ones(count), problem.hours[tickets]])
        upper = np.concatenate([np.ones(problem.n), slots.astype(np.float64), problem.room + 1e-9])
        shape = (problem.n + 2 * problem.m, count)
    else:
        tickets, column, value = _slot_edges(problem, slots)
        count = len(value)
        agent = np.repeat(np.arange(problem.m), slots)[column]
        total = int(slots.sum())
        rows = np.concatenate([tickets, problem.n + column, problem.n + total + agent])
        data = np.concatenate([np.ones(count), np.ones(count), problem.hours[tickets]])
        upper = np.concatenate([np.ones(problem.n), np.ones(total), problem.room + 1e-9])
        shape = (problem.n + total + problem.m, count)
    cols = np.concatenate([np.arange(count)] * 3)
    matrix = sp.csr_array((data, (rows, cols)), shape=shape)
    result = milp(
        -value,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(count),
        bounds=(0, 1),
        options={"time_limit": seconds},
    )
    if result.x is None or result.status not in (0, 1):
        return None
    chosen = np.nonzero(result.x > 0.5)[0]
    plan[tickets[chosen]] = agent[chosen]
    return plan
