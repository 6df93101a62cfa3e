"""`taskdist assign`: from the ledger to an explained plan, and from a plan to the ledger (and files).

Which tickets are planned: ready work items (open, not blocked, no open dependency) that nobody
holds. Tickets in progress or review, and open tickets that already name an assignee, keep it: they
are listed as kept, and count as their agent's load. Every other queued ticket that is not planned
gets a reason: blocked, no eligible agent, or no capacity.

The plan a dry run prints is the plan `--apply` writes: both compute it the same way from the same
ledger and `--now`, and `--apply` computes it inside the write transaction (the write lock is taken
before anything is read), then writes it whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.assignment import EPS, Problem, slot_factors, solve
from taskdist.config import Config
from taskdist.errors import UsageError
from taskdist.learning import Learned, OutcomeRecord, learn
from taskdist.ledger import assignments as store
from taskdist.ledger.db import Ledger
from taskdist.matching import AgentState, Compatibility, agent_state, compatibility, distinct_sets
from taskdist.priority import Scores

IntArray = npt.NDArray[np.int64]
STARTED = ("in_progress", "review")
VALUE_FLOOR = 1e-6  # a ticket scored 0 still goes to someone when there is room


@dataclass(slots=True)
class Context:
    """Everything a plan is computed from: the scores, learned figures, agents' state, compatibility."""

    config: Config
    now: datetime
    scores: Scores
    learned: dict[str, Learned]
    state: AgentState
    compat: Compatibility
    which: IntArray  # ticket row -> row of `compat`

    @property
    def hours(self) -> npt.NDArray[np.float64]:
        """Work left per ticket (what an assignment adds to its agent's load)."""
        return self.scores.urgency.remaining_hours

    def row(self, project: str, ticket: str) -> int | None:
        t = self.scores.tickets
        for k in range(len(t)):
            if t.project[k] == project and t.id[k] == ticket:
                return k
        return None


@contextmanager
def _snapshot(ledger: Ledger) -> Iterator[None]:
    """One read transaction (unless a write transaction is already open): all reads see one state."""
    if ledger.conn.in_transaction:
        yield
        return
    ledger.conn.execute("BEGIN")
    try:
        yield
    finally:
        ledger.conn.execute("COMMIT")


def load_context(ledger: Ledger, config: Config, now: datetime) -> Context:
    """Score the ledger and compute learned figures and compatibility, from one snapshot."""
    from taskdist.queue import score_ledger

    with _snapshot(ledger):
        scores = score_ledger(ledger, config, now)
        records = store.outcome_records(ledger)
    return context_from(scores, records, config, now)


def context_from(scores: Scores, records: list[OutcomeRecord], config: Config, now: datetime) -> Context:
    learned = learn(records, scores.agents, config.matching)
    state = agent_state(scores.agents, learned, scores.agent_load_hours, scores.agent_load_tasks, config.matching)
    sets, which = distinct_sets(scores.efficiency.required)
    return Context(config, now, scores, learned, state, compatibility(sets, state, config.matching), which)


# --- the plan -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    """One assignment with its explanation."""

    project: str
    ticket: str
    title: str
    agent: str
    priority: float
    compatibility: float
    value: float
    slot: int
    slot_factor: float
    hours: float
    parts: dict[str, float]
    eligible: int
    runner_up: str | None
    loss: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "ticket": self.ticket,
            "agent": self.agent,
            "priority": round(self.priority, 6),
            "compatibility": round(self.compatibility, 6),
            "value": round(self.value, 6),
            "runner_up": {
                "agent": self.runner_up,
                "loss": None if self.loss is None else round(self.loss, 6),
            },
            "title": self.title,
            "hours": round(self.hours, 6),
            "slot": self.slot,
            "slot_factor": round(self.slot_factor, 6),
            "parts": {k: round(v, 6) for k, v in self.parts.items()},
            "eligible_agents": self.eligible,
            "why": self.why(),
        }

    def why(self) -> str:
        head = f"{self.eligible} eligible agent{'s' if self.eligible != 1 else ''}"
        if self.runner_up is None:
            return f"{head}; the only one with room"
        return f"{head}; switching to {self.runner_up} would lose {self.loss:.3f}"


@dataclass(slots=True)
class Left:
    """A ticket the plan does not assign (reason: blocked, no eligible agent, no capacity) or keeps."""

    project: str
    ticket: str
    title: str
    reason: str
    detail: str
    agent: str | None = None
    priority: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"project": self.project, "ticket": self.ticket, "reason": self.reason}
        if self.agent is not None:
            data["agent"] = self.agent
        data.update({"priority": round(self.priority, 6), "detail": self.detail})
        return data


@dataclass(slots=True)
class Plan:
    """What `taskdist assign` prints and, with --apply, writes."""

    strategy: str
    solver: str
    objective: float
    assignments: list[Planned]
    unassigned: list[Left]
    kept: list[Left]
    agents: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    applied: bool = False
    written_files: list[str] = field(default_factory=list)
    fallback: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "objective": round(self.objective, 6),
            "assignments": [a.as_dict() for a in self.assignments],
            "unassigned": [u.as_dict() for u in self.unassigned],
            "strategy": self.strategy,
            "solver": self.solver,
            "fallback": self.fallback,
            "kept": [k.as_dict() for k in self.kept],
            "agents": self.agents,
            "written_files": self.written_files,
            "notes": self.notes,
        }


def plannable(ctx: Context, project: str | None = None) -> npt.NDArray[np.bool_]:
    """Ready tickets nobody holds (and of `project` when given)."""
    s = ctx.scores
    t = s.tickets
    free = np.array([a is None for a in t.assignee], dtype=bool)
    started = np.array([st in STARTED for st in t.status], dtype=bool)
    mask = s.ready & free & ~started
    if project is not None:
        mask &= np.array([p == project for p in t.project], dtype=bool)
    return np.asarray(mask, dtype=bool)


def build_problem(ctx: Context, rows: IntArray) -> Problem:
    """The optimizer's instance for ticket rows `rows`: eligible pairs and their values."""
    state = ctx.state
    agents = state.agents
    hours = ctx.hours[rows]
    u = ctx.which[rows]
    if len(rows) and agents:
        capable = ctx.compat.capable
        room = (state.room_tasks >= 1)[None, :] & (hours[:, None] <= state.room_hours[None, :] + EPS)
        eligible = capable[u] & room
        pt, pa = np.nonzero(eligible)
        total = ctx.compat.total
        value = np.maximum(ctx.scores.composite[rows][pt], VALUE_FLOOR) * total[u[pt], pa]
    else:
        pt = pa = np.zeros(0, dtype=np.int64)
        value = np.zeros(0, dtype=np.float64)
    slot_cost = ctx.config.matching.slot_cost
    t = ctx.scores.tickets
    return Problem.build(
        [(t.project[k], t.id[k]) for k in rows.tolist()],
        [a.id for a in agents],
        hours,
        state.room_tasks,
        state.room_hours,
        np.array([slot_cost / max(1, a.max_tasks) for a in agents], dtype=np.float64),
        pt,
        pa,
        value,
        priority=ctx.scores.composite[rows],
        held_hours=state.held_hours,
        capacity=state.capacity,
    )


def make_plan(ctx: Context, strategy: str = "optimal", project: str | None = None) -> Plan:
    """Plan every plannable ticket (of `project`) with `strategy`, and explain every decision."""
    from taskdist.assignment_search import runner_ups

    if project is not None and project not in set(ctx.scores.tickets.project):
        raise UsageError(f"no project {project!r} in the ledger; list them with `taskdist tickets`")
    mask = plannable(ctx, project)
    rows = np.nonzero(mask)[0].astype(np.int64)
    problem = build_problem(ctx, rows)
    solution = solve(problem, strategy)
    row_of = dict(zip(problem.ticket_keys, _rows_by_key(ctx, rows), strict=True))
    agent_index = {a.id: i for i, a in enumerate(ctx.state.agents)}
    factors = slot_factors(problem, solution.agent_of)
    seconds = runner_ups(problem, solution.agent_of)
    values = problem.pair_values(solution.agent_of)
    eligible_count = np.diff(problem.ptr)
    assignments = []
    for j in np.nonzero(solution.agent_of >= 0)[0].tolist():
        i = int(solution.agent_of[j])
        k = row_of[problem.ticket_keys[j]]
        a = agent_index[problem.agent_ids[i]]
        u = int(ctx.which[k])
        second = seconds[j]
        assignments.append(
            Planned(
                project=problem.ticket_keys[j][0],
                ticket=problem.ticket_keys[j][1],
                title=ctx.scores.tickets.title[k],
                agent=problem.agent_ids[i],
                priority=float(ctx.scores.composite[k]),
                compatibility=float(ctx.compat.total[u, a]),
                value=float(values[j] * factors[j]),
                slot=_slot_rank(factors[j], problem.step[i]),
                slot_factor=float(factors[j]),
                hours=float(problem.hours[j]),
                parts=ctx.compat.parts(u, a),
                eligible=int(eligible_count[j]),
                runner_up=problem.agent_ids[second[0]] if second else None,
                loss=second[1] if second else None,
            )
        )
    assignments.sort(key=lambda p: (-p.priority, p.project, p.ticket))
    assigned = {(p.project, p.ticket) for p in assignments}
    unassigned, kept = _left_out(ctx, project, assigned)
    plan = Plan(
        strategy=strategy,
        solver=solution.solver,
        objective=solution.objective,
        assignments=assignments,
        unassigned=unassigned,
        kept=kept,
        agents=_agent_summary(ctx, assignments),
        notes=list(solution.notes),
        fallback=solution.fallback,
    )
    return plan


def _rows_by_key(ctx: Context, rows: IntArray) -> list[int]:
    t = ctx.scores.tickets
    return sorted(rows.tolist(), key=lambda k: (t.project[k], t.id[k]))


def _slot_rank(factor: float, step: float) -> int:
    return round((1.0 - factor) / step) + 1 if step > 0 else 1


def _left_out(ctx: Context, project: str | None, assigned: set[tuple[str, str]]) -> tuple[list[Left], list[Left]]:
    """Reasons for every queued ticket the plan does not assign, and the tickets kept by their holder."""
    s = ctx.scores
    t = s.tickets
    state = ctx.state
    index = _alias_index(ctx)
    hours = ctx.hours
    # Per skill set: how many agents are capable, and the room (hours) of those with a free slot, sorted.
    capable_count = ctx.compat.capable.sum(axis=1)
    with_slot = state.room_tasks >= 1
    rooms = [np.sort(state.room_hours[ctx.compat.capable[u] & with_slot]) for u in range(len(ctx.compat.required))]
    most = [float(state.room_hours[ctx.compat.capable[u]].max(initial=0.0)) for u in range(len(ctx.compat.required))]
    unassigned: list[Left] = []
    kept: list[Left] = []
    for k in np.nonzero(s.queued)[0].tolist():
        key = (t.project[k], t.id[k])
        if (project is not None and key[0] != project) or key in assigned:
            continue
        priority = float(s.composite[k])
        holder = t.assignee[k]
        if holder is not None or t.status[k] in STARTED:
            agent = index.get(holder.lower().lstrip("@").strip()) if holder else None
            what = "in progress (kept)" if t.status[k] in STARTED else "assigned (kept)"
            if holder is None:
                detail = f"{t.status[k]} without an assignee: started work is not re-planned"
            elif agent is None:
                detail = f"held by {holder!r}, not a roster agent"
            else:
                detail = f"held by {agent}; counts as its load"
            kept.append(Left(key[0], key[1], t.title[k], what, detail, agent or holder, priority))
            continue
        if not s.ready[k]:
            blockers = [t.id[j] for j in s.graph.open_dependencies(k)]
            detail = f"blocked by {', '.join(blockers)}" if blockers else "its file says status blocked"
            unassigned.append(Left(key[0], key[1], t.title[k], "blocked", detail, None, priority))
            continue
        u = int(ctx.which[k])
        able = int(capable_count[u])
        if not able:
            unassigned.append(Left(key[0], key[1], t.title[k], "no eligible agent", _no_agent(ctx, u), None, priority))
            continue
        fitting = len(rooms[u]) - int(np.searchsorted(rooms[u], hours[k] - EPS, side="left"))
        if not fitting:
            detail = (
                f"its {able} capable agent{'s are' if able != 1 else ' is'} full or lack room: "
                f"needs {hours[k]:.1f} h, the most room left is {most[u]:.1f} h"
            )
        else:
            plural = "s" if fitting != 1 else ""
            detail = f"the room of its {fitting} eligible agent{plural} went to higher-value tickets"
        unassigned.append(Left(key[0], key[1], t.title[k], "no capacity", detail, None, priority))
    unassigned.sort(key=lambda x: (-x.priority, x.project, x.ticket))
    kept.sort(key=lambda x: (-x.priority, x.project, x.ticket))
    return unassigned, kept


def _no_agent(ctx: Context, u: int) -> str:
    needs = ctx.compat.required[u]
    if not ctx.state.agents:
        return "no roster imported (import with --roster)"
    if not ctx.state.available.any():
        return "every agent is away (availability 0)"
    skill = ctx.compat.skill[u]
    best = int(np.argmax(skill))
    need = ", ".join(needs) if needs else "no named skill"
    return (
        f"needs {need}: no available agent reaches {ctx.compat.min_match:.0%} "
        f"(closest: {ctx.state.agents[best].id} at {skill[best]:.0%})"
    )


def _alias_index(ctx: Context) -> dict[str, str]:
    from taskdist.roster import alias_index

    return alias_index(ctx.state.agents)


def _agent_summary(ctx: Context, assignments: list[Planned]) -> list[dict[str, Any]]:
    state = ctx.state
    given_tasks: dict[str, int] = {}
    given_hours: dict[str, float] = {}
    for p in assignments:
        given_tasks[p.agent] = given_tasks.get(p.agent, 0) + 1
        given_hours[p.agent] = given_hours.get(p.agent, 0.0) + p.hours
    summary = []
    for i, agent in enumerate(state.agents):
        summary.append(
            {
                "agent": agent.id,
                "new_tickets": given_tasks.get(agent.id, 0),
                "new_hours": round(given_hours.get(agent.id, 0.0), 6),
                "held_tickets": int(state.held_tasks[i]),
                "held_hours": round(float(state.held_hours[i]), 6),
                "max_tasks": agent.max_tasks,
                "capacity_hours": round(float(state.capacity[i]), 6),
            }
        )
    return summary


# --- applying -------------------------------------------------------------------------------------------


def run_assign(
    ledger: Ledger,
    config: Config,
    now: datetime,
    *,
    strategy: str = "optimal",
    project: str | None = None,
    apply: bool = False,
    write_back: bool = False,
) -> Plan:
    """The `assign` command: a dry run, or (with `apply`) the same plan written in one transaction."""
    from taskdist.assignment import STRATEGIES

    if strategy not in STRATEGIES:
        raise UsageError(f"--strategy {strategy!r} is not one of: {', '.join(STRATEGIES)}")
    if write_back and not apply:
        raise UsageError("--write-back changes ticket files, so it needs --apply (run without both for a dry run)")
    if not apply:
        return make_plan(load_context(ledger, config, now), strategy, project)
    from taskdist.timestamps import format_datetime

    with ledger.writing("assign", now, config.digest):
        plan = make_plan(load_context(ledger, config, now), strategy, project)
        stamp = format_datetime(now) or ""
        decisions = [
            store.NewAssignment(
                project=p.project,
                ticket=p.ticket,
                agent=p.agent,
                state="applied",
                strategy=strategy,
                value=p.value,
                priority=p.priority,
                compatibility=p.compatibility,
                runner_up=p.runner_up,
                runner_up_loss=p.loss,
                explanation={"parts": p.parts, "slot": p.slot, "slot_factor": p.slot_factor, "why": p.why()},
            )
            for p in plan.assignments
        ]
        if write_back:
            from taskdist.tickets.writeback import check_files

            check_files(ledger, [(p.project, p.ticket, p.agent) for p in plan.assignments])
        store.record_assignments(ledger, decisions, stamp)
        for p in plan.assignments:
            ledger.add_event(
                now,
                "assigned",
                project=p.project,
                ticket=p.ticket,
                agent=p.agent,
                data={
                    "strategy": strategy,
                    "value": round(p.value, 6),
                    "priority": round(p.priority, 6),
                    "compatibility": round(p.compatibility, 6),
                    "runner_up": p.runner_up,
                    "loss": None if p.loss is None else round(p.loss, 6),
                },
            )
        if write_back:
            from taskdist.tickets.writeback import write_assignees

            plan.written_files = write_assignees(
                ledger, [(p.project, p.ticket, p.agent) for p in plan.assignments], now
            )
        if plan.assignments:
            ledger.set_run_summary(
                {
                    "strategy": strategy,
                    "solver": plan.solver,
                    "assigned": len(plan.assignments),
                    "unassigned": len(plan.unassigned),
                    "objective": round(plan.objective, 6),
                    "written_files": len(plan.written_files),
                }
            )
        plan.applied = True
    return plan
