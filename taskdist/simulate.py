"""`taskdist simulate`: play the open backlog forward with the roster, once per strategy and seed.

Model (docs/simulation.md has the long form). Continuous calendar time in days from `now`.
- Played tickets: queued work items (of `project` when given) whose file does not say blocked.
  Tickets in progress or review, and open tickets naming a roster agent, stay with that agent from
  day 0; the rest wait for a decision.
- Work: agent i works capacity_hours x availability / 7 hours per calendar day (no weekends), on one
  ticket at a time: a started one first, then its highest-priority held ticket. It pulls its next
  ticket when it holds none (so max_tasks bounds nothing new: one in hand at a time). A deeper queue
  (new tickets while holding up to max_tasks) commits work early; measured on the sample project it
  made the weighted completion time of every strategy but random worse, the optimizer's most.
- Effort: a ticket's remaining hours x the agent's learned speed (actual/estimated) x a lognormal
  noise exp(N(0, sigma)) drawn once per ticket and seed (the same draw for every strategy, so they
  are compared on the same luck) / the agent's skill match (at least min_match, so at most 1/0.8 =
  1.25 x slower with the default: a weaker match is slower).
- Dependencies: a ticket is ready when every open dependency that the simulation plays is finished
  (dependencies outside it, such as containers, other projects or status-blocked files, do not gate).
- Decisions: at day 0 and whenever a ticket finishes, if an idle agent and a ready unheld ticket
  exist. The baselines get a `Problem` built as `planning.build_problem` builds it (value priority x
  compatibility, one slot per idle agent, room for any ticket; `held_hours` = hours worked so far,
  which is what least-loaded balances) and their `assignment.solve` plan is applied. `random` gives
  each ready ticket, in random order, to a random idle eligible agent (its own seeded stream).
- The optimizer is a dispatcher over the same model: `assignment.solve(.., "optimal")` on a
  matching of the ready tickets with the idle agents and the busy ones (at the time they are
  expected to be free), valued by what a dispatcher knows at that moment: priority (plus a share of
  what waits on the ticket) per expected day of work (learned speed, skill match, pace), raised by
  how fast the chance to meet the due date (or a dependent's) falls with waiting. Only the idle
  agents' tickets are handed out. It never reads the noise or the work left.
- Scores (priority, compatibility) are the ones computed at `now`; every strategy has the same
  information at every decision point (the baselines use only priority and compatibility).
Metrics are computed per run, then their mean and standard deviation over the seeds
(seed, seed + 1, ...). Unfinished tickets at the horizon count as finishing at the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.assignment import EPS, STRATEGIES, Problem, solve
from taskdist.errors import UsageError
from taskdist.planning import VALUE_FLOOR, Context

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ALL_STRATEGIES = (*STRATEGIES, "random")
METRICS = (
    "makespan_days",
    "on_time_share",
    "mean_tardiness_days",
    "weighted_completion_days",
    "utilization_cv",
    "mean_compatibility",
)
# Which way is better, per metric (the renderer marks the best value of each column).
HIGHER_IS_BETTER = {"on_time_share": True, "mean_compatibility": True}
DAY = 86_400.0
# The optimizer's dispatch rule (docs/simulation.md, "The optimizer"). Chosen on the sample project and
# five generated backlogs of other seeds than the ones the docs report (share in {0, 0.5, 1} x boost
# in {1, 3, 6}, then the limit in {1.25, 1.5, 2, none}); the results move little around these.
DOWNSTREAM_SHARE = 0.5  # a ticket weighs its priority + this x the priority of all that waits on it
DEADLINE_BOOST = 4.0  # weight x (1 + this x how fast the chance to finish on time falls with waiting)
SLOWER_LIMIT = 2.0  # no pair expected to finish later than this x the ticket's earliest expected finish


@dataclass(slots=True)
class StrategyResult:
    """One strategy's metrics: mean and standard deviation over the seeds, and tickets left unfinished."""

    name: str
    mean: dict[str, float]
    spread: dict[str, float]
    unfinished: float

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        data.update({k: round(self.mean[k], 6) for k in METRICS})
        data["spread"] = {k: round(self.spread[k], 6) for k in METRICS}
        data["unfinished"] = round(self.unfinished, 6)
        return data


@dataclass(slots=True)
class SimulationReport:
    """What `taskdist simulate` prints; shaped like its `--format json` output."""

    strategies: list[StrategyResult]
    seeds: int
    seed: int
    horizon_days: float
    tickets: int
    agents: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategies": [s.as_dict() for s in self.strategies],
            "seeds": self.seeds,
            "seed": self.seed,
            "horizon_days": self.horizon_days,
            "tickets": self.tickets,
            "agents": self.agents,
            "notes": self.notes,
        }


@dataclass(slots=True)
class _World:
    """What does not change between runs: the played tickets and the roster's figures."""

    ctx: Context
    rows: IntArray  # played ticket rows of ctx.scores
    keys: list[tuple[str, str]]
    index: dict[tuple[str, str], int]
    hours: FloatArray  # estimated remaining hours
    priority: FloatArray
    weight: FloatArray  # priority, floored: the weight of the weighted completion time
    due_days: FloatArray  # NaN without a due date
    skill_set: IntArray  # row of ctx.compat
    deps: list[list[int]]  # played dependencies, by played index
    dependents: list[list[int]]
    kept: IntArray  # agent index holding the ticket from day 0, or -1
    capable: npt.NDArray[np.bool_]  # (tickets, agents)
    agent_ids: list[str]
    agent_pos: dict[str, int]
    rate: FloatArray  # hours worked per day
    capacity: FloatArray
    max_tasks: IntArray
    speed: FloatArray
    step: FloatArray
    pace: FloatArray  # (tickets, agents): the days a dispatcher expects the work to take (median)
    expected: FloatArray  # pace, inf where the agent is not eligible for the ticket
    sigma: float  # the engine's spread of actual/estimated work (progress.prior_sigma), as a dispatcher knows it
    downstream: FloatArray  # weight of the played tickets that wait on the ticket, directly or not
    latest: FloatArray  # latest finish (days) that keeps the ticket and its dependents on time; NaN: none


def simulate(
    ctx: Context,
    strategies: Sequence[str] = ALL_STRATEGIES,
    *,
    seeds: int = 20,
    horizon_days: float = 60.0,
    seed: int = 0,
    project: str | None = None,
    sigma: float | None = None,
) -> SimulationReport:
    """Simulate every strategy over seeds seed..seed+seeds-1; `sigma` defaults to progress.prior_sigma."""
    unknown = [s for s in strategies if s not in ALL_STRATEGIES]
    if unknown or not strategies:
        raise UsageError(f"--strategies: choose from {', '.join(ALL_STRATEGIES)} (got {', '.join(unknown) or 'none'})")
    if seeds < 1 or horizon_days <= 0:
        raise UsageError("--seeds must be at least 1 and --horizon above 0")
    if project is not None and project not in set(ctx.scores.tickets.project):
        raise UsageError(f"no project {project!r} in the ledger; list them with `taskdist tickets`")
    world = _world(ctx, project)
    spread = ctx.config.progress.prior_sigma if sigma is None else sigma
    results = []
    for name in strategies:
        runs = [_run(world, name, s, spread, horizon_days) for s in range(seed, seed + seeds)]
        metrics = np.array([[r[k] for k in METRICS] for r in runs], dtype=np.float64)
        results.append(
            StrategyResult(
                name=name,
                mean=dict(zip(METRICS, metrics.mean(axis=0).tolist(), strict=True)),
                spread=dict(zip(METRICS, metrics.std(axis=0).tolist(), strict=True)),
                unfinished=float(np.mean([r["unfinished"] for r in runs])),
            )
        )
    notes = []
    if not world.agent_ids:
        notes.append("no roster imported (import with --roster): nothing can be worked on")
    return SimulationReport(results, seeds, seed, horizon_days, len(world.rows), len(world.agent_ids), notes)


def _world(ctx: Context, project: str | None) -> _World:
    from taskdist.roster import alias_index

    s = ctx.scores
    t = s.tickets
    mask = s.queued & ~t.status_blocked
    if project is not None:
        mask &= np.array([p == project for p in t.project], dtype=bool)
    rows = np.nonzero(mask)[0].astype(np.int64)
    played = {int(k): j for j, k in enumerate(rows.tolist())}
    deps: list[list[int]] = []
    dependents: list[list[int]] = [[] for _ in rows]
    for j, k in enumerate(rows.tolist()):
        mine = sorted({played[d] for d in s.graph.open_dependencies(k) if d in played and played[d] != j})
        deps.append(mine)
        for d in mine:
            dependents[d].append(j)
    agents = ctx.state.agents
    aliases = alias_index(agents)
    agent_pos = {a.id: i for i, a in enumerate(agents)}
    kept = np.full(len(rows), -1, dtype=np.int64)
    for j, k in enumerate(rows.tolist()):
        holder = t.assignee[k]
        agent = aliases.get(holder.lower().lstrip("@").strip()) if holder else None
        if agent is not None:
            kept[j] = agent_pos[agent]
    due = t.due[rows] if len(rows) else np.zeros(0)
    keys = [(t.project[k], t.id[k]) for k in rows.tolist()]
    which = ctx.which[rows]
    capacity = ctx.state.capacity
    hours = np.maximum(ctx.hours[rows], EPS)
    speed = np.array([f.speed for f in ctx.state.learned], dtype=np.float64)
    capable = ctx.compat.capable[which] if len(agents) else np.zeros((len(rows), 0), dtype=bool)
    rate = capacity / 7.0
    pace = _expected_days(ctx, which, hours, speed, rate)
    expected = np.where(capable, pace, np.inf)
    weight = np.maximum(s.composite[rows], VALUE_FLOOR)
    downstream = _downstream_weight(dependents, weight)
    latest = _latest_finish((due - ctx.now.timestamp()) / DAY, expected, dependents)
    return _World(
        ctx=ctx,
        rows=rows,
        keys=keys,
        index={key: j for j, key in enumerate(keys)},
        hours=hours,
        priority=s.composite[rows],
        weight=weight,
        due_days=(due - ctx.now.timestamp()) / DAY,
        skill_set=which,
        deps=deps,
        dependents=dependents,
        kept=kept,
        capable=capable,
        agent_ids=[a.id for a in agents],
        agent_pos=agent_pos,
        rate=rate,
        capacity=capacity,
        max_tasks=np.array([a.max_tasks for a in agents], dtype=np.int64),
        speed=speed,
        step=np.array([ctx.config.matching.slot_cost / max(1, a.max_tasks) for a in agents], dtype=np.float64),
        pace=pace,
        expected=expected,
        sigma=ctx.config.progress.prior_sigma,
        downstream=downstream,
        latest=latest,
    )


def _expected_days(ctx: Context, which: IntArray, hours: FloatArray, speed: FloatArray, rate: FloatArray) -> FloatArray:
    """What a dispatcher expects each pair to take, in days: the estimate x the agent's learned speed,
    slower with a weaker skill match, at the agent's pace (no noise: nobody knows the luck ahead)."""
    if not len(rate):
        return np.zeros((len(hours), 0))
    match = np.maximum(ctx.compat.skill[which], max(ctx.compat.min_match, 0.1))
    with np.errstate(divide="ignore"):
        days = hours[:, None] * speed[None, :] / match / rate[None, :]
    return np.where(rate[None, :] > 0, days, np.inf)


def _downstream_weight(dependents: list[list[int]], weight: FloatArray) -> FloatArray:
    """Per ticket, the summed weight of the tickets that wait on it, directly or not (each counted once)."""
    total = np.zeros(len(dependents), dtype=np.float64)
    for j in range(len(dependents)):
        seen: set[int] = set()
        stack = list(dependents[j])
        while stack:
            d = stack.pop()
            if d not in seen and d != j:
                seen.add(d)
                stack.extend(dependents[d])
        total[j] = float(weight[list(seen)].sum()) if seen else 0.0
    return total


def _latest_finish(due: FloatArray, expected: FloatArray, dependents: list[list[int]]) -> FloatArray:
    """Latest finish of each ticket that leaves its dependents, at their typical pace, time to meet
    their due dates: min(own due, min over dependents of their latest finish - their expected days).
    Dependents nobody can do, and tickets in a cycle, pass nothing down (they never finish)."""
    n = len(due)
    finite = np.isfinite(expected)
    typical = np.array([float(expected[j][finite[j]].mean()) if finite[j].any() else np.inf for j in range(n)])
    latest = np.where(np.isnan(due), np.inf, due)
    # Reverse topological order: a ticket after all of its dependents (Kahn's algorithm on the reversed graph).
    pending = np.array([len(d) for d in dependents], dtype=np.int64)
    waits_on: list[list[int]] = [[] for _ in range(n)]
    for j, ds in enumerate(dependents):
        for d in ds:
            waits_on[d].append(j)
    stack = [j for j in range(n) if pending[j] == 0]
    while stack:
        d = stack.pop()
        bound = latest[d] - typical[d] if np.isfinite(latest[d]) else np.inf
        for j in waits_on[d]:
            if np.isfinite(bound) and bound < latest[j]:
                latest[j] = bound
            pending[j] -= 1
            if pending[j] == 0:
                stack.append(j)
    return np.where(np.isfinite(latest), latest, np.nan)


class _Run:
    """One play of the backlog: per-ticket work left, holders, finish times; per-agent busy time."""

    def __init__(self, world: _World, strategy: str, seed: int, sigma: float) -> None:
        self.w = world
        self.strategy = strategy
        n, m = len(world.rows), len(world.agent_ids)
        self.noise = np.random.default_rng(seed).lognormal(0.0, sigma, n) if sigma > 0 else np.ones(n)
        self.choices = np.random.default_rng([seed, 1])  # the random strategy's own stream
        self.holder = np.full(n, -1, dtype=np.int64)
        self.total = np.zeros(n)  # effort of the ticket with its holder
        self.left = np.zeros(n)
        self.finished = np.full(n, np.nan)
        self.waiting = np.array([len(d) for d in world.deps], dtype=np.int64)
        self.held: list[list[int]] = [[] for _ in range(m)]
        self.busy = np.zeros(m)
        self.worked = np.zeros(n)  # days each ticket has been worked on: what a dispatcher sees of progress
        self.compat: list[float] = []
        self.now = 0.0
        for j in np.nonzero(world.kept >= 0)[0].tolist():
            self.give(j, int(world.kept[j]), record=False)

    def give(self, j: int, i: int, record: bool = True) -> None:
        w = self.w
        u = int(w.skill_set[j])
        match = max(float(w.ctx.compat.skill[u, i]), w.ctx.compat.min_match, 0.1)
        self.total[j] = self.left[j] = w.hours[j] * w.speed[i] * self.noise[j] / match
        self.holder[j] = i
        self.held[i].append(j)
        if record:
            self.compat.append(float(w.ctx.compat.total[u, i]))

    def order(self, j: int) -> tuple[bool, float, int]:
        """Which held ticket an agent works on: the one it started, else the highest priority."""
        return (self.w.kept[j] < 0, -float(self.w.priority[j]), j)

    def decide(self) -> None:
        w = self.w
        ready = np.nonzero((self.holder < 0) & (self.waiting == 0) & np.isnan(self.finished))[0]
        # One ticket at a time: an agent with nothing in hand has one free slot, and room for any ticket.
        idle = np.array([not h for h in self.held], dtype=bool)
        free = idle & (w.rate > 0) & (w.max_tasks > 0)
        if not len(ready) or not free.any() or not w.capable[ready][:, free].any():
            return
        slots = free.astype(np.int64)
        room = np.where(free, np.maximum(w.capacity, float(w.hours[ready].max())), 0.0)
        worked = self.busy * w.rate  # hours worked so far: the load least-loaded balances over time
        if self.strategy == "random":
            self._random(ready, slots, room)
            return
        if self.strategy == "optimal":
            self._dispatch(ready, free)
            return
        fits = w.capable[ready] & free[None, :] & (w.hours[ready][:, None] <= room[None, :] + EPS)
        pt, pa = np.nonzero(fits)
        total = w.ctx.compat.total
        value = np.maximum(w.priority[ready][pt], VALUE_FLOOR) * total[w.skill_set[ready][pt], pa]
        problem = Problem.build(
            [w.keys[j] for j in ready.tolist()],
            w.agent_ids,
            w.hours[ready],
            slots,
            room,
            w.step,
            pt,
            pa,
            value,
            priority=w.priority[ready],
            held_hours=worked,
            capacity=w.capacity,
        )
        plan = solve(problem, self.strategy).agent_of
        for q in np.nonzero(plan >= 0)[0].tolist():
            self.give(w.index[problem.ticket_keys[q]], w.agent_pos[problem.agent_ids[int(plan[q])]])

    def free_in(self, i: int) -> float:
        """Days until agent i is expected to be free: the expected rest of the ticket it works on, given
        how long that has run (lognormal, median), plus the expected days of the others it holds."""
        w = self.w
        held = self.held[i]
        if not held:
            return 0.0
        active = min(held, key=self.order)
        rest = _median_rest(float(w.pace[active, i]), float(self.worked[active]), w.sigma)
        return rest + sum(float(w.pace[j, i]) for j in held if j != active)

    def _dispatch(self, ready: IntArray, free: npt.NDArray[np.bool_]) -> None:
        """The optimizer: one `assignment.solve` over the ready tickets and the working agents, the busy
        ones at the time they are expected to be free; only the free agents' tickets are handed out (a
        ticket matched to a busy agent waits for it). Busy agents that cannot take any ticket a free
        agent could take do not compete with the free ones and are left out."""
        w = self.w
        working = (w.rate > 0) & (w.max_tasks > 0)
        reach = w.capable[ready][:, free].any(axis=1)  # tickets a free agent could take now
        agents = np.nonzero(working & (free | w.capable[ready[reach]].any(axis=0)))[0]
        delay = np.array([0.0 if free[i] else self.free_in(int(i)) for i in agents.tolist()])
        fits = w.capable[ready][:, agents]
        tickets = ready[fits.any(axis=1)]
        pt, pa = np.nonzero(fits[fits.any(axis=1)])
        value, keep = self.dispatch_value(tickets, pt, agents[pa], delay[pa])
        pt, pa, value = pt[keep], pa[keep], value[keep]
        problem = Problem.build(
            [w.keys[j] for j in tickets.tolist()],
            [w.agent_ids[i] for i in agents.tolist()],
            w.hours[tickets],
            np.ones(len(agents), dtype=np.int64),
            np.full(len(agents), float(w.hours[tickets].sum()) + 1.0),  # one ticket each: hours never bind
            w.step[agents],
            pt,
            pa,
            value,
            priority=w.priority[tickets],
            held_hours=self.busy[agents] * w.rate[agents],
            capacity=w.capacity[agents],
        )
        # One slot per agent and hours that never bind: the slot solve is exact, and the local search has
        # nothing to improve (tests/test_simulate.py checks that the full search finds the same value).
        plan = solve(problem, "optimal", search_budget=0).agent_of
        for q in np.nonzero(plan >= 0)[0].tolist():
            i = w.agent_pos[problem.agent_ids[int(plan[q])]]
            if free[i]:
                self.give(w.index[problem.ticket_keys[q]], i)

    def dispatch_value(
        self, tickets: IntArray, pt: IntArray, pa: IntArray, delay: FloatArray
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """The optimizer's value of each pair (ticket tickets[pt], agent pa, which can start in `delay`
        days), and which pairs to offer at all (docs/simulation.md, "The optimizer")."""
        w = self.w
        j = tickets[pt]
        days = w.expected[j, pa]
        finish = delay + days
        best = np.full(len(tickets), np.inf)
        np.minimum.at(best, pt, finish)
        # Per ticket, its pair expected to finish first: the ticket's own index is measured there.
        fastest = np.nonzero(finish <= best[pt] + 1e-12)[0]
        _, first = np.unique(pt[fastest], return_index=True)
        pair_of = np.zeros(len(tickets), dtype=np.int64)
        pair_of[pt[fastest[first]]] = fastest[first]
        b = pair_of[pt]
        weight = w.weight[j] + DOWNSTREAM_SHARE * w.downstream[j]
        window = w.latest[j] - (self.now + delay[b])  # days left to the latest finish (NaN: no due date)
        has = ~np.isnan(window) & (window > 0)
        safe = np.where(has, window, 1.0)
        z = np.log(safe / days[b]) / w.sigma
        # The chance to finish on time is Phi(z) for a lognormal duration; waiting a day lowers it by
        # phi(z) / (sigma x window). Per day of work, that is the urgency: near 0 for a safe ticket and
        # for a hopeless one, highest when the window is about the work.
        urgency = np.where(has, np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) / w.sigma * days[b] / safe, 0.0)
        index = weight / days[b] * (1.0 + DEADLINE_BOOST * urgency)
        later = finish / best[pt]
        return index / later, later <= SLOWER_LIMIT

    def _random(self, ready: IntArray, slots: IntArray, room: FloatArray) -> None:
        w = self.w
        slots = slots.copy()
        room = room.copy()
        for j in self.choices.permutation(ready).tolist():
            able = np.nonzero(w.capable[j] & (slots > 0) & (w.rate > 0) & (w.hours[j] <= room + EPS))[0]
            if len(able):
                i = int(self.choices.choice(able))
                slots[i] -= 1
                room[i] -= w.hours[j]
                self.give(j, i)

    def play(self, horizon: float) -> float:
        """Run to the horizon or until nothing moves; the time reached."""
        w = self.w
        now = 0.0
        while True:
            self.now = now
            self.decide()
            active = np.array([min(h, key=self.order) for h in self.held if h], dtype=np.int64)
            if not len(active):
                return now
            agents = self.holder[active]
            pace = w.rate[agents]
            moving = pace > 0
            if not moving.any():
                return now
            dt = float(np.min(self.left[active][moving] / pace[moving]))
            dt = min(dt, horizon - now)
            self.left[active] -= dt * pace
            self.busy[agents] += dt * moving
            self.worked[active] += dt * moving
            now += dt
            done = active[moving & (self.left[active] <= 1e-9 * np.maximum(self.total[active], 1.0))]
            for j in done.tolist():
                self.finished[j] = now
                self.held[int(self.holder[j])].remove(j)
                for d in w.dependents[j]:
                    self.waiting[d] -= 1
            if now >= horizon - 1e-12:
                return now


def _median_rest(days: float, worked: float, sigma: float) -> float:
    """Median of the work left on a lognormal job of median `days` that has run `worked` days so far."""
    from statistics import NormalDist

    if worked <= 0:
        return days
    normal = NormalDist()
    with np.errstate(divide="ignore"):  # worked nothing next to days: log 0 = -inf, cdf 0, all still left
        z = np.log(worked / days) / sigma
    past = normal.cdf(z)
    if past >= 1.0 - 1e-12:
        return 0.0
    return max(0.0, days * float(np.exp(sigma * normal.inv_cdf((1.0 + past) / 2.0))) - worked)


def _run(world: _World, strategy: str, seed: int, sigma: float, horizon: float) -> dict[str, float]:
    run = _Run(world, strategy, seed, sigma)
    run.play(horizon)
    finished = run.finished
    done = ~np.isnan(finished)
    ends = np.where(done, finished, horizon)
    makespan = float(finished[done].max()) if done.any() else 0.0
    due = world.due_days
    has_due = ~np.isnan(due)
    late = np.maximum(0.0, ends[has_due] - due[has_due])
    on_time = done[has_due] & (ends[has_due] <= due[has_due] + 1e-9)
    weight = world.weight
    working = world.rate > 0
    util = run.busy[working] / makespan if makespan > 0 else np.zeros(int(working.sum()))
    mean_util = float(util.mean()) if len(util) else 0.0
    return {
        "makespan_days": makespan,
        "on_time_share": float(on_time.mean()) if has_due.any() else 1.0,
        "mean_tardiness_days": float(late.mean()) if has_due.any() else 0.0,
        "weighted_completion_days": float((weight * ends).sum() / weight.sum()) if len(weight) else 0.0,
        "utilization_cv": float(util.std() / mean_util) if mean_util > 0 else 0.0,
        "mean_compatibility": float(np.mean(run.compat)) if run.compat else 0.0,
        "unfinished": float((~done).sum()),
    }


__all__ = ["ALL_STRATEGIES", "HIGHER_IS_BETTER", "METRICS", "SimulationReport", "simulate"]
