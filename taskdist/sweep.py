"""`taskdist escalate`: the escalation sweep over the ledger (the policy itself is `escalation.py`).

A dry run plans the steps and writes nothing. With `apply`, the whole sweep is one write transaction
taken before any state is read: every step updates the `escalations` table and appends its event
(`recovered`, `escalated`, `escalation_closed`), a recovery also re-assigns the ticket, and the run
records a workload snapshot for the forecast's trend. `rebalance` calls `sweep(..., apply=True)`
inside its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from taskdist.config import Config
from taskdist.escalation import Step, plan_sweep
from taskdist.ledger import status as store
from taskdist.ledger.db import Ledger
from taskdist.status import TeamState, load_team_state

if TYPE_CHECKING:
    from taskdist.recovery import RecoveryPlanner
from taskdist.timestamps import format_datetime

SNAPSHOT_EVERY = timedelta(hours=1)


@dataclass(slots=True)
class SweepReport:
    applied: bool
    steps: list[Step]
    open_before: int
    findings: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.action] = counts.get(step.action, 0) + 1
        return {
            "applied": self.applied,
            "findings": self.findings,
            "open_before": self.open_before,
            "counts": counts,
            "steps": [s.as_dict() for s in self.steps],
        }


def plan_steps(ledger: Ledger, state: TeamState) -> tuple[list[Step], RecoveryPlanner]:
    """The sweep's steps at `state.now`; recoveries are re-solved with the agents' learned figures."""
    from taskdist.learning import learn
    from taskdist.ledger.assignments import outcome_records
    from taskdist.recovery import RecoveryPlanner

    learned = learn(outcome_records(ledger), state.agents, state.config.matching)
    planner = RecoveryPlanner(state, learned)
    rows = state.open_rows.records()
    steps = plan_sweep(state.findings, rows, state.config.escalation, state.now, planner.propose)
    return steps, planner


def apply_steps(ledger: Ledger, state: TeamState, steps: list[Step], now: datetime) -> None:
    """Write the steps (inside `ledger.writing()`): escalation rows, events, re-assignments."""
    stamp = format_datetime(now) or ""
    for step in steps:
        data: dict[str, Any] = {
            "rule": step.rule,
            "subject": step.subject,
            "level": step.level,
            "level_name": step.level_name,
            "cycle": step.cycle,
            "cause": step.cause,
        }
        if step.detail:
            data["detail"] = step.detail
        if step.action == "close":
            assert step.escalation_id is not None
            store.update_escalation(ledger, step.escalation_id, {"closed_at": stamp})
            data["escalation"] = step.escalation_id
            ledger.add_event(
                now, "escalation_closed", project=step.project, ticket=step.ticket, agent=step.agent, data=data
            )
            continue
        record = {
            "rule": step.rule,
            "subject": step.subject,
            "project": step.project,
            "ticket": step.ticket,
            "agent": step.agent,
            "level": step.level,
            "cycle": step.cycle,
            "recoveries": step.recoveries,
            "opened_at": stamp,
            "last_level_at": stamp,
            "cause": step.cause,
            "data": {"tried": list(step.tried)},
        }
        if step.escalation_id is None:
            escalation_id = store.insert_escalation(ledger, record)
        else:
            escalation_id = step.escalation_id
            changes = {k: record[k] for k in ("level", "cycle", "recoveries", "last_level_at", "cause", "data")}
            store.update_escalation(ledger, escalation_id, changes)
        data["escalation"] = escalation_id
        if step.action == "recover":
            assert step.project is not None and step.ticket is not None and step.to_agent is not None
            data.update({"from": step.from_agent, "to": step.to_agent})
            reassign(ledger, state, step, now)
            ledger.add_event(now, "recovered", project=step.project, ticket=step.ticket, agent=step.to_agent, data=data)
        else:
            ledger.add_event(now, "escalated", project=step.project, ticket=step.ticket, agent=step.agent, data=data)


def reassign(ledger: Ledger, state: TeamState, step: Step, now: datetime) -> None:
    """Apply a recovery: an `applied` assignment (strategy `recovery`) and a `reassigned` event.

    Written through the assignment side's `record_assignments`, so it is the ticket's effective
    assignee exactly like one `assign --apply` wrote, and survives re-imports the same way.
    """
    from taskdist.ledger.assignments import NewAssignment, record_assignments

    assert step.project is not None and step.ticket is not None and step.to_agent is not None
    found = step.recovery
    k = state.row_of(step.project, step.ticket)
    before = state.scores.tickets.assignee[k] if k is not None else None
    priority = float(state.scores.composite[k]) if k is not None else 0.0
    decision = NewAssignment(
        project=step.project,
        ticket=step.ticket,
        agent=step.to_agent,
        state="applied",
        strategy="recovery",
        value=found.score if found else 0.0,
        priority=priority,
        compatibility=found.compatibility if found else 0.0,
        runner_up=found.runner_up if found else None,
        runner_up_loss=found.runner_up_loss if found else None,
        explanation={"rule": step.rule, "cause": step.cause, "from": step.from_agent, "why": step.detail},
    )
    record_assignments(ledger, [decision], format_datetime(now) or "")
    ledger.add_event(
        now,
        "reassigned",
        project=step.project,
        ticket=step.ticket,
        agent=step.to_agent,
        data={"from": before, "to": step.to_agent, "reason": f"escalation recovery ({step.rule}): {step.detail}"},
    )


def record_snapshot(ledger: Ledger, state: TeamState, force: bool) -> bool:
    """Save this run's workload figures when something was written or the last snapshot is old."""
    latest = state.workload.snapshots[-1].at if state.workload.snapshots else None
    if not force and latest is not None and state.now - latest < SNAPSHOT_EVERY:
        return False
    w = state.workload
    store.save_snapshot(
        ledger,
        {
            "at": format_datetime(state.now),
            "open_tickets": w.waiting.open_tickets,
            "ready_tickets": w.waiting.ready_tickets,
            "backlog_hours": w.waiting.backlog_hours,
            "ready_backlog_hours": w.waiting.ready_backlog_hours,
            "team_capacity_hours": float(w.forecast["team_capacity_hours"]),
            "health": w.health.score,
        },
    )
    return True


def sweep(ledger: Ledger, config: Config, now: datetime, apply: bool) -> SweepReport:
    """One sweep inside the caller's transaction (`rebalance` calls this within its own `writing()`).

    With `apply` it must run inside `ledger.writing()`: it writes the steps and a workload snapshot.
    """
    state = load_team_state(ledger, config, now, for_sweep=True)
    steps, _ = plan_steps(ledger, state)
    report = SweepReport(apply, steps, len(state.open_rows), len(state.findings))
    if apply:
        apply_steps(ledger, state, steps, now)
        record_snapshot(ledger, state, force=bool(steps))
    return report


def run_sweep(ledger: Ledger, config: Config, now: datetime, apply: bool) -> SweepReport:
    """`taskdist escalate`: plan (and with `apply`, write in one transaction) one escalation sweep."""
    if not apply:
        return sweep(ledger, config, now, apply=False)
    with ledger.writing("escalate", now, config.digest):
        report = sweep(ledger, config, now, apply=True)
        if ledger.run_id is not None:
            ledger.set_run_summary({"findings": report.findings, "steps": report.as_dict()["counts"]})
    return report
