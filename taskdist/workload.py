"""Workload: each agent's load against its capacity, the imbalance, alerts, a health score, a forecast.

Load: the hours left and the number of open work items an agent holds. Capacity: `capacity_hours x
availability` and `max_tasks`. Utilization = max(hours / capacity, tickets / max_tasks), the tighter
of the two limits (infinite for an agent who is away but holds work). Imbalance: the coefficient of
variation (std / mean) of utilization over available agents.

Health (0-100) = 100 x sum(weight x part), each part in [0, 1] with 1 = good (docs/status.md):
- capacity   0.30  1 - mean over agents of min(1, utilization above the overload threshold)
- balance    0.20  1 - min(1, CV of utilization capped at the overload threshold)
- flow       0.20  1 - share of available agents idle while ready work they could take waits
- queue_age  0.10  1 while the oldest ready unassigned ticket is younger than max_ready_age_days,
                   falling linearly to 0 at twice that age
- delivery   0.20  1 - share of open work items at high or critical delay risk
Monotone by construction: once an agent is above the overload threshold, more load raises its
excess (capacity part falls) and leaves its capped utilization (balance part) unchanged, so the
score never improves when an overloaded agent gets more overloaded.

Forecast: backlog hours / team hours per day = days to clear; the ready backlog over the team's
capacity; and the trend: the net burn rate (hours per day the backlog shrank) since the snapshot of
an earlier run closest to `trend_window_days` ago, with the date it projects for an empty backlog.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.config import WorkloadConfig
from taskdist.models import Agent

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HEALTH_WEIGHTS = {"capacity": 0.30, "balance": 0.20, "flow": 0.20, "queue_age": 0.10, "delivery": 0.20}
TREND_TOLERANCE_HOURS_PER_DAY = 0.5


@dataclass(frozen=True, slots=True)
class AgentLoad:
    """One agent's load; `state` is away, overloaded, busy (>= 80%), ok or idle."""

    id: str
    name: str
    capacity_hours: float
    max_tasks: int
    availability: float
    hours: float
    tickets: int
    utilization: float
    state: str
    could_take: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hours": round(self.hours, 3),
            "tickets": self.tickets,
            "capacity_hours": round(self.capacity_hours, 3),
            "max_tasks": self.max_tasks,
            "availability": self.availability,
            "utilization": None if math.isinf(self.utilization) else round(self.utilization, 4),
            "state": self.state,
            "could_take": self.could_take,
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a person should look at: `kind` names the rule, `subject` the agent or ticket."""

    kind: str
    severity: str
    subject: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "subject": self.subject, "message": self.message}


@dataclass(frozen=True, slots=True)
class Waiting:
    """Open work the team has not absorbed yet (hours are work left)."""

    open_tickets: int = 0
    backlog_hours: float = 0.0
    ready_tickets: int = 0
    ready_backlog_hours: float = 0.0
    unassigned_ready: int = 0
    unassigned_ready_hours: float = 0.0
    oldest_ready: str | None = None
    oldest_ready_days: float = 0.0
    at_risk_share: float = 0.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What an earlier run recorded (workload_snapshots)."""

    at: datetime
    backlog_hours: float
    open_tickets: int
    health: float


@dataclass(slots=True)
class Health:
    score: float
    parts: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 1), "parts": self.parts}


@dataclass(slots=True)
class Workload:
    agents: list[AgentLoad]
    imbalance: float
    alerts: list[Alert]
    health: Health
    forecast: dict[str, Any]
    waiting: Waiting = field(default_factory=Waiting)
    snapshots: list[Snapshot] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agents": [a.as_dict() for a in self.agents],
            "imbalance": round(self.imbalance, 4),
            "health": self.health.as_dict(),
            "alerts": [a.as_dict() for a in self.alerts],
            "forecast": self.forecast,
        }


def utilizations(agents: Sequence[Agent], hours: FloatArray, tickets: IntArray) -> FloatArray:
    """max(hours / (capacity x availability), tickets / max_tasks); inf when it holds work it cannot hold."""
    result = np.zeros(len(agents), dtype=np.float64)
    for k, agent in enumerate(agents):
        capacity = agent.capacity_hours * agent.availability
        by_hours = hours[k] / capacity if capacity > 0 else (math.inf if hours[k] > 0 else 0.0)
        by_tasks = tickets[k] / agent.max_tasks if agent.max_tasks > 0 else (math.inf if tickets[k] > 0 else 0.0)
        result[k] = max(by_hours, by_tasks)
    return result


def imbalance_of(values: FloatArray) -> float:
    """Coefficient of variation (population std / mean); 0 for fewer than two values or a zero mean."""
    finite = values[np.isfinite(values)]
    if len(finite) < 2:
        return 0.0
    mean = float(finite.mean())
    return float(finite.std() / mean) if mean > 0 else 0.0


def health_score(
    utilization: FloatArray,
    available: npt.NDArray[np.bool_],
    idle_with_work: int,
    waiting: Waiting,
    cfg: WorkloadConfig,
) -> Health:
    """The weighted parts (module docstring); each part carries its value, weight, points and a reason."""
    threshold = cfg.overloaded_above
    if len(utilization):
        excess = np.where(np.isinf(utilization), 1.0, np.clip(utilization - threshold, 0.0, 1.0))
        capacity = 1.0 - float(excess.mean())
        overloaded = int((utilization > threshold).sum())
    else:
        capacity, overloaded = 1.0, 0
    capped = np.minimum(utilization[available], threshold)
    spread = imbalance_of(capped)
    balance = 1.0 - min(1.0, spread)
    pool = int(available.sum())
    flow = 1.0 - (idle_with_work / pool if pool else 0.0)
    limit = cfg.max_ready_age_days
    age = waiting.oldest_ready_days
    queue_age = 1.0 if age <= limit else max(0.0, 1.0 - (age - limit) / limit) if limit > 0 else 0.0
    delivery = 1.0 - min(1.0, max(0.0, waiting.at_risk_share))
    values = {"capacity": capacity, "balance": balance, "flow": flow, "queue_age": queue_age, "delivery": delivery}
    reasons = {
        "capacity": f"{overloaded} of {len(utilization)} agents over {threshold:.0%} utilization",
        "balance": f"spread of utilization (CV) {spread:.2f}",
        "flow": f"{idle_with_work} of {pool} agents idle while work fit for them waits",
        "queue_age": f"oldest unassigned ready: {age:.0f} days (limit {limit:g})",
        "delivery": f"{waiting.at_risk_share:.0%} of open work at high/critical delay risk",
    }
    parts = {
        name: {
            "value": round(values[name], 4),
            "weight": weight,
            "points": round(100.0 * weight * values[name], 2),
            "why": reasons[name],
        }
        for name, weight in HEALTH_WEIGHTS.items()
    }
    score = 100.0 * sum(HEALTH_WEIGHTS[name] * values[name] for name in HEALTH_WEIGHTS)
    return Health(min(100.0, max(0.0, score)), parts)


def forecast(
    waiting: Waiting,
    team_capacity_hours: float,
    team_hours_per_day: float,
    history: Sequence[Snapshot],
    cfg: WorkloadConfig,
    now: datetime,
) -> dict[str, Any]:
    """Days to clear the backlog at the team's pace, and the trend against earlier runs."""
    days = waiting.backlog_hours / team_hours_per_day if team_hours_per_day > 0 else None
    result: dict[str, Any] = {
        "backlog_hours": round(waiting.backlog_hours, 2),
        "ready_backlog_hours": round(waiting.ready_backlog_hours, 2),
        "team_capacity_hours": round(team_capacity_hours, 2),
        "backlog_ratio": round(waiting.ready_backlog_hours / team_capacity_hours, 3) if team_capacity_hours else None,
        "team_hours_per_day": round(team_hours_per_day, 2),
        "days_to_clear": round(days, 1) if days is not None else None,
        "clear_date": _date(now + timedelta(days=days)) if days is not None and days < 36500 else None,
        "trend": trend(waiting.backlog_hours, history, cfg.trend_window_days, now),
    }
    return result


def trend(backlog_hours: float, history: Sequence[Snapshot], window_days: float, now: datetime) -> dict[str, Any]:
    """Net burn rate since the earlier snapshot closest to `window_days` ago (at least an hour old)."""
    target = now - timedelta(days=window_days)
    earlier = [s for s in history if s.at <= now - timedelta(hours=1)]
    if not earlier:
        return {"direction": "unknown", "since": None, "burn_hours_per_day": None, "projected_clear": None}
    base = min(earlier, key=lambda s: (abs((s.at - target).total_seconds()), s.at))
    elapsed = (now - base.at).total_seconds() / 86400.0
    rate = (base.backlog_hours - backlog_hours) / elapsed
    if rate > TREND_TOLERANCE_HOURS_PER_DAY:
        direction = "shrinking"
    elif rate < -TREND_TOLERANCE_HOURS_PER_DAY:
        direction = "growing"
    else:
        direction = "flat"
    projected = None
    if rate > TREND_TOLERANCE_HOURS_PER_DAY and backlog_hours / rate < 36500:
        projected = _date(now + timedelta(days=backlog_hours / rate))
    return {
        "direction": direction,
        "since": base.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backlog_hours_then": round(base.backlog_hours, 2),
        "burn_hours_per_day": round(rate, 2),
        "projected_clear": projected,
    }


def _date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def assess(
    agents: Sequence[Agent],
    hours: FloatArray,
    tickets: IntArray,
    could_take: IntArray,
    waiting: Waiting,
    history: Sequence[Snapshot],
    cfg: WorkloadConfig,
    hours_per_day: float,
    workdays_per_week: float,
    now: datetime,
) -> Workload:
    """The workload report from each agent's load (hours, tickets) and what waits (see module docstring).

    `could_take[a]`: ready, unassigned tickets agent `a` is eligible for (drives the idle alert).
    """
    hours = np.asarray(hours, dtype=np.float64)
    tickets = np.asarray(tickets, dtype=np.int64)
    util = utilizations(agents, hours, tickets)
    available = np.array([a.availability > 0 for a in agents], dtype=bool)
    loads, alerts = [], []
    idle_with_work = 0
    for k, agent in enumerate(agents):
        u = float(util[k])
        if not available[k]:
            state = "away"
        elif u > cfg.overloaded_above:
            state = "overloaded"
        elif u >= 0.8 * cfg.overloaded_above:
            state = "busy"
        elif u < cfg.idle_below:
            state = "idle"
        else:
            state = "ok"
        load = AgentLoad(
            agent.id,
            agent.name,
            agent.capacity_hours * agent.availability,
            agent.max_tasks,
            agent.availability,
            float(hours[k]),
            int(tickets[k]),
            u,
            state,
            int(could_take[k]) if len(could_take) > k else 0,
        )
        loads.append(load)
        alerts.extend(_agent_alerts(load, cfg))
        if state == "idle" and load.could_take > 0:
            idle_with_work += 1
    if waiting.oldest_ready is not None and waiting.oldest_ready_days > cfg.max_ready_age_days:
        alerts.append(
            Alert(
                "queue_too_old",
                "high" if waiting.oldest_ready_days > 2 * cfg.max_ready_age_days else "medium",
                waiting.oldest_ready,
                f"{waiting.oldest_ready} ready, unassigned for {waiting.oldest_ready_days:.0f} days "
                f"(limit {cfg.max_ready_age_days:g})",
            )
        )
    health = health_score(util, available, idle_with_work, waiting, cfg)
    capacity = float(sum(a.capacity_hours * a.availability for a in agents))
    per_day = float(sum(hours_per_day * a.availability for a in agents)) * workdays_per_week / 7.0
    return Workload(
        agents=loads,
        imbalance=imbalance_of(util[available]),
        alerts=alerts,
        health=health,
        forecast=forecast(waiting, capacity, per_day, history, cfg, now),
        waiting=waiting,
        snapshots=list(history),
    )


def _agent_alerts(load: AgentLoad, cfg: WorkloadConfig) -> list[Alert]:
    if load.state == "away" and load.tickets:
        return [
            Alert(
                "away_with_work",
                "high",
                load.id,
                f"{load.id} is away (availability 0) but holds {load.tickets} tickets, {load.hours:.0f} h",
            )
        ]
    if load.state == "overloaded":
        return [
            Alert(
                "overloaded",
                "critical" if load.utilization > 1.5 * cfg.overloaded_above else "high",
                load.id,
                f"{load.id} holds {load.hours:.0f} h in {load.tickets} tickets: {load.utilization:.0%} of "
                f"{load.capacity_hours:g} h / {load.max_tasks} tickets",
            )
        ]
    if load.state == "idle" and load.could_take:
        return [
            Alert(
                "idle",
                "medium",
                load.id,
                f"{load.id} at {load.utilization:.0%} while {load.could_take} ready "
                f"ticket{'s' if load.could_take != 1 else ''} it could take wait{'s' if load.could_take == 1 else ''}",
            )
        ]
    return []
