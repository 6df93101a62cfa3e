"""Escalation: rules that find what went wrong, and the policy that decides who hears about it when.

Rules (each can be switched off in `escalation.rules`), each finding one subject (a ticket, an agent,
a dependency cycle):
- overdue: an open work item past its due date.
- delay_risk: an open work item not yet overdue whose delay risk is at `escalation.delay_risk` or worse.
- stalled: in progress (or review) with no status change for more than `stalled_days`.
- blocked: status `blocked` for more than `blocked_days`.
- failed: a ticket that failed and has not been started again since, or failed `failed_times` times
  and is still open.
- no_eligible_agent: a ready, unassigned work item no agent of the roster is eligible for.
- dependency_cycle: tickets that wait for each other (one finding per cycle).
- dangling_dependency: a ticket naming a prerequisite that does not exist.
- agent_overloaded: an agent above the overload threshold.

Policy (a state machine per finding, keyed by rule and subject; PagerDuty-style levels):
1. A new finding first gets automated recovery when its rule allows it (failed, delay_risk) and an
   eligible alternative agent exists: the ticket is re-assigned (level 0, "recovered").
   Otherwise it opens at level 1 ("escalated").
2. While the cause persists, each level has a timeout (level 0: `recovery_timeout_hours`); when it
   passes, recovery is tried again if the escalation still has recoveries left (`max_recoveries`),
   else the level rises. After the last level the policy starts again at level 1, `repeat` more
   times (any number), then stays at the last level.
3. When the cause is gone the escalation closes ("escalation_closed").
The sweep plans these steps from data; `apply` writes each one with its event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.config import EscalationConfig

RISK_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}
RISK_LEVEL = {"": -2, "none": -1, **RISK_ORDER}
BAND_OF_LEVEL = {level: name for name, level in RISK_LEVEL.items()}


@dataclass(frozen=True, slots=True)
class Finding:
    """A cause found now. `exclude`: agents a recovery must not choose (who failed it, who holds it)."""

    rule: str
    subject: str
    cause: str
    project: str | None = None
    ticket: str | None = None
    agent: str | None = None
    recoverable: bool = False
    exclude: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recovery:
    """An alternative the solver found: the agent, the pair's value and compatibility, why, the runner-up."""

    agent: str
    score: float
    reason: str
    compatibility: float = 0.0
    runner_up: str | None = None
    runner_up_loss: float | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One planned step: open/recover/escalate/close, with the escalation's state after it."""

    action: str  # recover | escalate | close
    rule: str
    subject: str
    cause: str
    level: int
    cycle: int
    recoveries: int
    level_name: str
    project: str | None = None
    ticket: str | None = None
    agent: str | None = None
    escalation_id: int | None = None
    from_agent: str | None = None
    to_agent: str | None = None
    detail: str = ""
    tried: tuple[str, ...] = ()
    recovery: Recovery | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule": self.rule,
            "subject": self.subject,
            "project": self.project,
            "ticket": self.ticket,
            "agent": self.agent,
            "level": self.level,
            "level_name": self.level_name,
            "cycle": self.cycle,
            "recoveries": self.recoveries,
            "cause": self.cause,
            "from_agent": self.from_agent,
            "to_agent": self.to_agent,
            "detail": self.detail,
            "escalation": self.escalation_id,
        }


RecoverFn = Callable[[Finding, tuple[str, ...]], Recovery | None]


def level_name(policy: EscalationConfig, level: int) -> str:
    if level <= 0:
        return "automated recovery"
    return policy.levels[min(level, len(policy.levels)) - 1].name


def timeout(policy: EscalationConfig, level: int) -> timedelta:
    """How long an escalation stays at `level` before the next step."""
    if level <= 0:
        return timedelta(hours=policy.recovery_timeout_hours)
    return timedelta(hours=policy.levels[min(level, len(policy.levels)) - 1].timeout_hours)


def next_level(policy: EscalationConfig, level: int, cycle: int) -> tuple[int, int] | None:
    """The (level, cycle) after `level`, wrapping to level 1 while repeats remain; None: stay."""
    if level < len(policy.levels):
        return level + 1, cycle
    if cycle < policy.repeat:
        return 1, cycle + 1
    return None


def plan_sweep(
    findings: Sequence[Finding],
    open_rows: Sequence[dict[str, Any]],
    policy: EscalationConfig,
    now: datetime,
    recover: RecoverFn,
) -> list[Step]:
    """The steps a sweep takes now (see the module docstring). Pure: `recover` proposes agents only."""
    from taskdist.timestamps import parse_stored_datetime

    current = {(f.rule, f.subject): f for f in findings}
    steps: list[Step] = []
    seen: set[tuple[str, str]] = set()
    for row in open_rows:
        key = (row["rule"], row["subject"])
        seen.add(key)
        finding = current.get(key)
        base = Step(
            action="close",
            rule=row["rule"],
            subject=row["subject"],
            cause=row["cause"],
            level=row["level"],
            cycle=row["cycle"],
            recoveries=row["recoveries"],
            level_name=level_name(policy, row["level"]),
            project=row["project"],
            ticket=row["ticket"],
            agent=row["agent"],
            escalation_id=row["id"],
            tried=tuple(row["data"].get("tried", ())),
        )
        if finding is None or finding.rule not in policy.rules:
            steps.append(replace(base, detail="the cause cleared"))
            continue
        since = parse_stored_datetime(row["last_level_at"])
        if since is not None and now - since < timeout(policy, row["level"]):
            continue
        step = _advance(replace(base, cause=finding.cause), finding, policy, recover)
        if step is not None:
            steps.append(step)
    for finding in findings:
        key = (finding.rule, finding.subject)
        if key in seen or finding.rule not in policy.rules:
            continue
        fresh = Step(
            action="escalate",
            rule=finding.rule,
            subject=finding.subject,
            cause=finding.cause,
            level=0,
            cycle=0,
            recoveries=0,
            level_name="",
            project=finding.project,
            ticket=finding.ticket,
            agent=finding.agent,
        )
        step = _advance(fresh, finding, policy, recover)
        if step is not None:
            steps.append(step)
    return steps


def _advance(state: Step, finding: Finding, policy: EscalationConfig, recover: RecoverFn) -> Step | None:
    """Recovery if the rule allows it and recoveries remain, else the next level (None: nothing left)."""
    if policy.recovery and finding.recoverable and state.recoveries < policy.max_recoveries:
        excluded = tuple(sorted({*finding.exclude, *state.tried}))
        found = recover(finding, excluded)
        if found is not None:
            return replace(
                state,
                action="recover",
                level=state.level if state.level > 0 else 0,
                level_name=level_name(policy, state.level),
                recoveries=state.recoveries + 1,
                from_agent=finding.agent,
                to_agent=found.agent,
                detail=found.reason,
                tried=(*state.tried, found.agent),
                recovery=found,
            )
    if state.level == 0 and state.escalation_id is None:
        target: tuple[int, int] | None = (1, 0)
    else:
        target = next_level(policy, state.level, state.cycle)
    if target is None:
        return None
    level, cycle = target
    why = "no eligible alternative agent" if finding.recoverable and policy.recovery else ""
    return replace(
        state,
        action="escalate",
        level=level,
        cycle=cycle,
        level_name=level_name(policy, level),
        detail=why,
    )


# The order findings are listed in (most urgent first) when a report shows only some.
RULE_ORDER = (
    "overdue",
    "failed",
    "no_eligible_agent",
    "dependency_cycle",
    "delay_risk",
    "stalled",
    "blocked",
    "agent_overloaded",
    "dangling_dependency",
)
TICKET_RULES = ("overdue", "delay_risk", "stalled", "blocked", "failed", "no_eligible_agent", "dangling_dependency")
DAY = 86400.0


@dataclass(slots=True)
class RuleInput:
    """Per-ticket columns the rules read, row `k` being ticket `k`; times are POSIX seconds (NaN: none).

    `owner` indexes `agents` (-1: nobody); `risk_level` is the delay-risk band as a level (0 low ..
    3 critical, -1 without due date, -2 closed); `status_since` is when the ticket entered its current
    status as far as the ledger knows; `failed_agents` and `dangling` are sparse (row -> names).
    """

    project: Sequence[str]
    id: Sequence[str]
    status: Sequence[str] | npt.NDArray[np.str_]
    work_item: npt.NDArray[np.bool_]
    owner: npt.NDArray[np.int64]
    agents: Sequence[str]
    due: npt.NDArray[np.float64]
    risk_level: npt.NDArray[np.int8]
    p_late: npt.NDArray[np.float64]
    ready: npt.NDArray[np.bool_]
    no_eligible: npt.NDArray[np.bool_]
    status_since: npt.NDArray[np.float64]
    failures: npt.NDArray[np.int64]
    last_failed: npt.NDArray[np.float64]
    last_started: npt.NDArray[np.float64]
    failed_agents: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    dangling: Mapping[int, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]]) -> RuleInput:
        """Columns from one mapping per ticket (tests, small callers); missing keys take neutral values."""

        def seconds(value: Any) -> float:
            return value.timestamp() if isinstance(value, datetime) else math.nan

        def column(name: str, default: Any) -> list[Any]:
            return [r.get(name, default) for r in records]

        agents = sorted({a for a in column("agent", None) if a is not None})
        return cls(
            project=column("project", "p"),
            id=column("id", ""),
            status=column("status", "open"),
            work_item=np.array(column("work_item", True), dtype=bool),
            owner=np.array([-1 if a is None else agents.index(a) for a in column("agent", None)], dtype=np.int64),
            agents=agents,
            due=np.array([seconds(v) for v in column("due", None)], dtype=np.float64),
            risk_level=np.array([RISK_LEVEL[b] for b in column("band", "none")], dtype=np.int8),
            p_late=np.array([math.nan if v is None else v for v in column("p_late", None)], dtype=np.float64),
            ready=np.array(column("ready", True), dtype=bool),
            no_eligible=np.array(column("no_eligible", False), dtype=bool),
            status_since=np.array([seconds(v) for v in column("status_since", None)], dtype=np.float64),
            failures=np.array(column("failures", 0), dtype=np.int64),
            last_failed=np.array([seconds(v) for v in column("last_failed", None)], dtype=np.float64),
            last_started=np.array([seconds(v) for v in column("last_started", None)], dtype=np.float64),
            failed_agents={k: tuple(r["failed_agents"]) for k, r in enumerate(records) if r.get("failed_agents")},
            dangling={k: tuple(r["dangling"]) for k, r in enumerate(records) if r.get("dangling")},
        )


def rule_masks(data: RuleInput, policy: EscalationConfig, now: datetime) -> dict[str, npt.NDArray[np.bool_]]:
    """For each enabled ticket rule, which tickets it finds now (module docstring), on whole arrays."""
    n = len(data.id)
    now_s = now.timestamp()
    status = np.asarray(data.status)
    is_open = (status != "done") & (status != "cancelled")
    started = (status == "in_progress") | (status == "review")
    with np.errstate(invalid="ignore"):
        overdue = is_open & data.work_item & ~np.isnan(data.due) & (data.due <= now_s)
        waited = (now_s - data.status_since) / DAY
        restarted = data.last_started > data.last_failed
    level = data.risk_level
    has_agent = data.owner >= 0
    dangling = np.zeros(n, dtype=bool)
    dangling[[k for k, refs in data.dangling.items() if refs]] = True
    masks = {
        "overdue": overdue,
        "delay_risk": is_open
        & data.work_item
        & ~overdue
        & (level >= RISK_ORDER[policy.delay_risk])
        & ~np.isnan(data.p_late),
        "stalled": is_open & started & (waited > policy.stalled_days),
        "blocked": is_open & (status == "blocked") & (waited > policy.blocked_days),
        "failed": is_open & (data.failures > 0) & (~restarted | (data.failures >= policy.failed_times)),
        "no_eligible_agent": is_open & data.no_eligible & data.ready & ~has_agent,
        "dangling_dependency": is_open & dangling,
    }
    return {rule: np.asarray(mask, dtype=bool) for rule, mask in masks.items() if rule in policy.rules}


def describe(rule: str, k: int, data: RuleInput, policy: EscalationConfig, now: datetime) -> Finding:
    """The finding of a ticket rule for ticket `k` (which `rule_masks` selected), with its cause in words."""
    project, ticket = data.project[k], data.id[k]
    agent = data.agents[int(data.owner[k])] if data.owner[k] >= 0 else None
    subject = f"{project}:{ticket}"
    now_s = now.timestamp()
    common: dict[str, Any] = {"project": project, "ticket": ticket, "agent": agent}
    if rule == "overdue":
        late = (now_s - data.due[k]) / DAY
        return Finding(rule, subject, f"due {_day(data.due[k])}, {late:.1f} days ago", **common)
    if rule == "delay_risk":
        return Finding(
            rule,
            subject,
            f"{BAND_OF_LEVEL[int(data.risk_level[k])]} delay risk: "
            f"P(finish after due {_day(data.due[k])}) = {data.p_late[k]:.0%}",
            recoverable=data.status[k] in ("open", "blocked") and bool(data.ready[k]),
            exclude=(agent,) if agent else (),
            **common,
        )
    if rule in ("stalled", "blocked"):
        days = (now_s - data.status_since[k]) / DAY
        limit = policy.stalled_days if rule == "stalled" else policy.blocked_days
        return Finding(rule, subject, f"{data.status[k]} for {days:.1f} days (limit {limit:g})", **common)
    if rule == "failed":
        failures = int(data.failures[k])
        failed = data.failed_agents.get(k, ())
        who = ", ".join(failed) or "unknown agent"
        return Finding(
            rule,
            subject,
            f"failed {failures} time{'s' if failures != 1 else ''} (by {who})",
            recoverable=True,
            exclude=tuple(sorted({*failed, *((agent,) if agent else ())})),
            **common,
        )
    if rule == "no_eligible_agent":
        return Finding(rule, subject, "no agent in the roster is eligible", **common)
    if rule == "dangling_dependency":
        return Finding(rule, subject, f"depends on missing {', '.join(data.dangling.get(k, ()))}", **common)
    raise ValueError(f"not a ticket rule: {rule}")


def cycle_findings(cycles: Sequence[Sequence[tuple[str, str]]], policy: EscalationConfig) -> list[Finding]:
    """One finding per dependency cycle, keyed by its first member."""
    if "dependency_cycle" not in policy.rules:
        return []
    found = []
    for members in cycles:
        if not members:
            continue
        ordered = sorted(members)
        project, first = ordered[0]
        names = " -> ".join(i for _, i in ordered)
        found.append(
            Finding(
                "dependency_cycle",
                f"cycle:{project}:{first}",
                f"{len(ordered)} tickets wait for each other: {names}",
                project=project,
                ticket=first,
                data={"members": [i for _, i in ordered]},
            )
        )
    return found


def overload_findings(overloaded: Sequence[tuple[str, str]], policy: EscalationConfig) -> list[Finding]:
    """One finding per overloaded agent: (agent id, why)."""
    if "agent_overloaded" not in policy.rules:
        return []
    return [Finding("agent_overloaded", f"agent:{agent}", why, agent=agent) for agent, why in overloaded]


def find(
    data: RuleInput,
    cycles: Sequence[Sequence[tuple[str, str]]],
    overloaded: Sequence[tuple[str, str]],
    policy: EscalationConfig,
    now: datetime,
) -> list[Finding]:
    """Every cause present now, for the enabled rules, in RULE_ORDER then row order."""
    masks = rule_masks(data, policy, now)
    by_rule: dict[str, list[Finding]] = {
        rule: [describe(rule, k, data, policy, now) for k in np.nonzero(mask)[0].tolist()]
        for rule, mask in masks.items()
    }
    by_rule["dependency_cycle"] = cycle_findings(cycles, policy)
    by_rule["agent_overloaded"] = overload_findings(overloaded, policy)
    return [f for rule in RULE_ORDER for f in by_rule.get(rule, [])]


def _day(value: float) -> str:
    if math.isnan(value):
        return "-"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
