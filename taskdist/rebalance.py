"""`taskdist rebalance`: the cron job. Plan first, move little, and never leave the ledger half-written.

One run, in one write transaction taken before anything is read:
1. re-import the configured sources (and roster) so decisions start from the files as they are;
2. score every ticket and compute compatibility (the same context `assign` uses);
3. plan moves of not-started work off overloaded agents (`plan_moves`, guard rails below);
4. write the moves as `applied` assignments with a `moved` event each;
5. run the escalation sweep (recovery first, then levels) on the state after the moves;
6. record the run and its summary.
A dry run (the default) does all of it and rolls the transaction back, so what it prints is exactly
what `--apply` writes. A killed run leaves the ledger as before it: SQLite commits the transaction
whole or not at all.

Move model. Utilization u(a) = max(held hours / (capacity x availability), held tickets / max_tasks).
Agent a is overloaded when u(a) > overloaded_above. Moving ticket t (h hours, priority p on 0-100)
from a to b gains
    gain = p x (compat(t, b) - compat(t, a)) + balance_weight x p x relief,
    relief = min(1, excess(a) / h)   (excess: hours over capacity; 1 when a is over by ticket count),
and is allowed only when b is eligible for t (skill match >= min_match, available), b stays at or
below target_below after taking t (hours and tickets), gain > min_gain, t is not started, t was not
moved within cooldown_hours, and neither a nor b has reached max_moves_per_agent this run. Moves are
chosen greedily, best gain first, re-evaluating loads after each, up to max_moves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from taskdist.config import Config, Source
from taskdist.ledger import events as event_log
from taskdist.ledger.db import Ledger
from taskdist.timestamps import format_datetime

STARTED = ("in_progress", "review")


@dataclass(slots=True)
class Move:
    """One planned move of a not-started ticket, with why it pays."""

    project: str
    ticket: str
    title: str
    from_agent: str
    to_agent: str
    gain: float
    priority: float
    compat_from: float
    compat_to: float
    hours: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "ticket": self.ticket,
            "from": self.from_agent,
            "to": self.to_agent,
            "gain": round(self.gain, 6),
            "reason": self.reason,
            "title": self.title,
            "priority": round(self.priority, 6),
            "compatibility": {"from": round(self.compat_from, 6), "to": round(self.compat_to, 6)},
            "hours": round(self.hours, 6),
        }


@dataclass(slots=True)
class RebalanceReport:
    """What `rebalance` did (or, in a dry run, would do); shaped like its `--format json` output."""

    applied: bool
    run: int | None = None
    imported: dict[str, Any] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    overloaded: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "applied": self.applied,
            "imported": self.imported,
            "moves": [m.as_dict() for m in self.moves],
            "escalations": self.escalations,
            "overloaded": self.overloaded,
            "skipped": self.skipped,
            "notes": self.notes,
        }


@dataclass(slots=True)
class _Agents:
    """Mutable per-agent load while moves are planned (roster order)."""

    ids: list[str]
    hours: np.ndarray[Any, np.dtype[np.float64]]
    tasks: np.ndarray[Any, np.dtype[np.int64]]
    capacity: np.ndarray[Any, np.dtype[np.float64]]
    max_tasks: np.ndarray[Any, np.dtype[np.int64]]
    moves: np.ndarray[Any, np.dtype[np.int64]]

    def utilization(self, i: int, extra_hours: float = 0.0, extra_tasks: int = 0) -> float:
        by_hours = (self.hours[i] + extra_hours) / self.capacity[i] if self.capacity[i] > 0 else float("inf")
        by_tasks = (self.tasks[i] + extra_tasks) / self.max_tasks[i] if self.max_tasks[i] > 0 else float("inf")
        return float(max(by_hours, by_tasks))


def plan_moves(
    ctx: Any, config: Config, cooling: set[tuple[str, str]]
) -> tuple[list[Move], list[dict[str, Any]], list[dict[str, Any]]]:
    """The guarded moves (see module docstring), plus the overloaded agents and the tickets held back.

    `ctx` is `planning.Context`; `cooling` the tickets moved within the cooldown.
    """
    from taskdist.roster import alias_index

    rules = config.rebalance
    state = ctx.state
    scores = ctx.scores
    t = scores.tickets
    agents = state.agents
    if not agents:
        return [], [], []
    team = _Agents(
        ids=[a.id for a in agents],
        hours=np.array(state.held_hours, dtype=np.float64).copy(),
        tasks=np.array(state.held_tasks, dtype=np.int64).copy(),
        capacity=np.array(state.capacity, dtype=np.float64),
        max_tasks=np.array([a.max_tasks for a in agents], dtype=np.int64),
        moves=np.zeros(len(agents), dtype=np.int64),
    )
    position = {a.id: i for i, a in enumerate(agents)}
    spelling = alias_index(agents)
    held: list[tuple[int, int]] = []  # (ticket row, agent index) of movable held work
    for k in np.nonzero(scores.queued)[0].tolist():
        holder = t.assignee[k]
        if holder is None or t.status[k] in STARTED:
            continue
        agent_id = spelling.get(holder.lower().lstrip("@").strip())
        if agent_id is not None:
            held.append((k, position[agent_id]))
    overloaded = [
        {"agent": team.ids[i], "utilization": round(team.utilization(i), 6)}
        for i in range(len(agents))
        if team.utilization(i) > rules.overloaded_above
    ]
    skipped: list[dict[str, Any]] = []
    moves: list[Move] = []
    moved: set[int] = set()
    hours = ctx.hours
    while len(moves) < rules.max_moves:
        best: tuple[float, str, str, str, int, int, int] | None = None
        for k, a in held:
            if (
                k in moved
                or team.utilization(a) <= rules.overloaded_above
                or team.moves[a] >= rules.max_moves_per_agent
            ):
                continue
            key = (t.project[k], t.id[k])
            if key in cooling:
                if not any(s["ticket"] == key[1] and s["project"] == key[0] for s in skipped):
                    skipped.append({"project": key[0], "ticket": key[1], "reason": "moved within the cooldown"})
                continue
            u = int(ctx.which[k])
            h = float(hours[k])
            p = float(scores.composite[k])
            excess_hours = team.hours[a] - team.capacity[a] * rules.overloaded_above
            over_by_count = team.tasks[a] > team.max_tasks[a] * rules.overloaded_above
            relief = 1.0 if over_by_count or h <= 0 else float(min(1.0, max(0.0, excess_hours) / h))
            for b in np.nonzero(ctx.compat.capable[u])[0].tolist():
                if b == a or team.moves[b] >= rules.max_moves_per_agent:
                    continue
                if team.utilization(b, h, 1) > rules.target_below + 1e-12:
                    continue
                gain = p * (float(ctx.compat.total[u, b]) - float(ctx.compat.total[u, a]))
                gain += rules.balance_weight * p * relief
                if gain <= rules.min_gain:
                    continue
                # The best gain wins; ties break on ids, so the plan never depends on input order.
                candidate = (-gain, key[0], key[1], team.ids[b], k, a, b)
                if best is None or candidate[:4] < best[:4]:
                    best = candidate
        if best is None:
            break
        negative_gain, project, ticket, _, k, a, b = best
        gain = -negative_gain
        u = int(ctx.which[k])
        h = float(hours[k])
        before_a = team.utilization(a)
        team.hours[a] -= h
        team.tasks[a] -= 1
        team.hours[b] += h
        team.tasks[b] += 1
        team.moves[a] += 1
        team.moves[b] += 1
        moved.add(k)
        moves.append(
            Move(
                project=project,
                ticket=ticket,
                title=t.title[k],
                from_agent=team.ids[a],
                to_agent=team.ids[b],
                gain=gain,
                priority=float(scores.composite[k]),
                compat_from=float(ctx.compat.total[u, a]),
                compat_to=float(ctx.compat.total[u, b]),
                hours=h,
                reason=(
                    f"{team.ids[a]} at {before_a:.0%} of capacity (over {rules.overloaded_above:.0%}); "
                    f"{team.ids[b]} eligible and at {team.utilization(b):.0%} after the move; "
                    f"compatibility {float(ctx.compat.total[u, a]):.2f} -> {float(ctx.compat.total[u, b]):.2f}"
                ),
            )
        )
    return moves, overloaded, skipped


def rebalance(
    ledger: Ledger,
    config: Config,
    now: datetime,
    *,
    apply: bool,
    sources: list[Source],
    roster: str | os.PathLike[str] | None,
) -> RebalanceReport:
    """One rebalance run (see module docstring); a dry run unless `apply`."""
    from taskdist.importer import import_sources
    from taskdist.ledger.assignments import NewAssignment, record_assignments
    from taskdist.planning import load_context
    from taskdist.sweep import sweep

    report = RebalanceReport(applied=apply)
    with ledger.writing("rebalance", now, config.digest, dry_run=not apply):
        if config.rebalance.reimport and (sources or roster is not None):
            imported = import_sources(ledger, sources, config, now, roster=roster)
            report.imported = {
                k: imported.as_dict()[k] for k in ("imported", "updated", "unchanged", "missing", "tickets")
            }
            report.imported["errors"] = len(imported.errors)
        elif config.rebalance.reimport:
            report.notes.append("no sources in taskdist.yaml: nothing re-imported")
        ctx = load_context(ledger, config, now)
        since = format_datetime(now - timedelta(hours=config.rebalance.cooldown_hours)) or ""
        cooling = event_log.tickets_with_event_since(ledger, "moved", since)
        report.moves, report.overloaded, report.skipped = plan_moves(ctx, config, cooling)
        stamp = format_datetime(now) or ""
        decisions = [
            NewAssignment(
                project=m.project,
                ticket=m.ticket,
                agent=m.to_agent,
                state="applied",
                strategy="rebalance",
                value=m.priority * m.compat_to,
                priority=m.priority,
                compatibility=m.compat_to,
                runner_up=m.from_agent,
                runner_up_loss=m.gain,
                explanation={"from": m.from_agent, "gain": m.gain, "reason": m.reason},
            )
            for m in report.moves
        ]
        record_assignments(ledger, decisions, stamp)
        for m in report.moves:
            ledger.add_event(
                now,
                "moved",
                project=m.project,
                ticket=m.ticket,
                agent=m.to_agent,
                data={"from": m.from_agent, "to": m.to_agent, "gain": round(m.gain, 6), "reason": m.reason},
            )
        swept = sweep(ledger, config, now, apply=True)
        report.escalations = swept.as_dict()["steps"]
        report.run = ledger.ensure_run()
        ledger.set_run_summary(
            {
                "applied": apply,
                "imported": report.imported,
                "moves": len(report.moves),
                "escalation_steps": len(report.escalations),
            }
        )
    if not apply:
        report.run = None
    return report
