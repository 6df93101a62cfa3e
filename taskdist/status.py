"""The team's state in one pass over the ledger, for `status` (the reports) and `escalate` (the sweep).

Loading: the priority engine's columns and scores (`queue.score_ledger`), the extra columns progress
needs, outcome history, speed samples, open escalations and earlier workload snapshots, all read from
one snapshot of the ledger. Then the pure models run over arrays: `progress.forecast`,
`workload.assess`, `escalation.find`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.config import Config
from taskdist.escalation import (
    RISK_ORDER,
    RULE_ORDER,
    TICKET_RULES,
    Finding,
    RuleInput,
    cycle_findings,
    describe,
    level_name,
    next_level,
    overload_findings,
    rule_masks,
    timeout,
)
from taskdist.ledger import status as store
from taskdist.ledger.db import Ledger
from taskdist.models import Agent
from taskdist.priority import Scores
from taskdist.progress import DAY, Progress, ProgressInput, Speed, forecast, learn_speed
from taskdist.timestamps import format_datetime, parse_stored_datetime
from taskdist.workload import Snapshot, Waiting, Workload, assess

IntArray = npt.NDArray[np.int64]
SECTIONS = ("queue", "workload", "progress", "escalations")
DEFAULT_LIMIT = 10


@dataclass(slots=True)
class TeamState:
    """Everything computed about the ledger at `now`; row `k` of every array is ticket `k`."""

    config: Config
    now: datetime
    scores: Scores
    columns: store.StatusColumns
    owner: IntArray
    speeds: list[Speed]
    prior: Speed
    pace_hours: npt.NDArray[np.float64]
    progress: Progress
    workload: Workload
    history: store.OutcomeHistory
    open_rows: store.EscalationRows
    rules: RuleInput | None = None
    masks: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    cycles: list[Finding] = field(default_factory=list)
    overloaded: list[Finding] = field(default_factory=list)
    _index: dict[str, dict[str, int]] | None = None
    _findings: list[Finding] | None = None

    @property
    def agents(self) -> list[Agent]:
        return self.scores.agents

    def row_of(self, project: str | None, ticket: str | None) -> int | None:
        """The row of a ticket (the index is built on first use: most reports never need it)."""
        if self._index is None:
            # One id -> row table per project: string keys look up several times faster than tuples.
            t = self.scores.tickets
            tables: dict[str, dict[str, int]] = {}
            for k, (name, key) in enumerate(zip(t.project, t.id, strict=True)):
                table = tables.get(name)
                if table is None:
                    table = tables[name] = {}
                table[key] = k
            self._index = tables
        if project is None or ticket is None:
            return None
        table = self._index.get(project)
        return table.get(ticket) if table is not None else None

    @property
    def findings(self) -> list[Finding]:
        """Every cause present now, in RULE_ORDER (built on first use: the sweep needs them all)."""
        if self._findings is None:
            found: dict[str, list[Finding]] = {"dependency_cycle": self.cycles, "agent_overloaded": self.overloaded}
            if self.rules is not None:
                for rule, mask in self.masks.items():
                    found[rule] = [
                        describe(rule, k, self.rules, self.config.escalation, self.now)
                        for k in np.nonzero(mask)[0].tolist()
                    ]
            self._findings = [f for rule in RULE_ORDER for f in found.get(rule, [])]
        return self._findings

    def has_cause(self, rule: str, subject: str, project: str | None, ticket: str | None, agent: str | None) -> bool:
        """Whether the cause of an escalation (rule, subject) is still present now."""
        if rule in self.masks:
            k = self.row_of(project, ticket)
            return k is not None and bool(self.masks[rule][k])
        if rule == "dependency_cycle":
            return any(f.subject == subject for f in self.cycles)
        if rule == "agent_overloaded":
            return any(f.agent == agent for f in self.overloaded)
        return False


def owners(assignees: Sequence[str | None], agents: Sequence[Agent]) -> IntArray:
    """Each ticket's agent (row in `agents`) by id, name or alias, as the priority engine counts load; -1 none."""
    from taskdist.roster import alias_index

    index = alias_index(list(agents))
    position = {a.id: k for k, a in enumerate(agents)}
    cache: dict[str, int] = {}
    result = np.full(len(assignees), -1, dtype=np.int64)
    for k, name in enumerate(assignees):
        if name is None:
            continue
        found = cache.get(name)
        if found is None:
            agent_id = index.get(name.lower().lstrip("@").strip())
            found = cache[name] = position[agent_id] if agent_id is not None else -1
        result[k] = found
    return result


def learned_speeds(samples: Sequence[tuple[str, float, float]], agents: Sequence[Agent], config: Config) -> list[Speed]:
    """Each agent's Speed from its finished work (assignee spellings resolved through the roster)."""
    from taskdist.roster import alias_index

    index = alias_index(list(agents))
    pairs: dict[str, list[tuple[float, float]]] = {}
    for name, estimate, actual in samples:
        agent_id = index.get(name.lower().lstrip("@").strip())
        if agent_id is not None:
            pairs.setdefault(agent_id, []).append((estimate, actual))
    # The prior weight is the matching section's, so the median speed is the one `agents` shows.
    weight = config.matching.prior_outcomes
    return [learn_speed(pairs.get(a.id, []), config.progress.prior_sigma, weight) for a in agents]


def load_team_state(ledger: Ledger, config: Config, now: datetime, *, for_sweep: bool = False) -> TeamState:
    """Read the ledger once (one snapshot) and run the progress, workload and escalation models.

    `for_sweep` also decodes each open escalation's data (the agents recovery already tried).
    """
    from taskdist.queue import score_ledger

    with store.read_snapshot(ledger):
        scores = score_ledger(ledger, config, now)
        columns = store.load_status_columns(ledger)
        samples = store.speed_samples(ledger)
        history = store.outcome_history(ledger)
        open_rows = store.open_escalations(ledger, with_data=for_sweep)
        snapshots = store.snapshots_before(ledger, format_datetime(now) or "")
    t = scores.tickets
    if len(columns.parent) != len(t):
        raise RuntimeError("the ledger changed between two reads of one snapshot")
    status = np.asarray(t.status)
    agents = scores.agents
    owner = owners(t.assignee, agents)
    speeds = learned_speeds(samples, agents, config)
    prior = Speed(0.0, config.progress.prior_sigma, 0)
    pace = np.array([config.effort.hours_per_day * a.availability for a in agents], dtype=np.float64)
    graph = scores.graph
    data = ProgressInput(
        project=t.project,
        id=t.id,
        parent=columns.parent,
        work_item=t.work_item & ~t.missing,
        status=status,
        estimate_hours=t.estimate_hours,
        completion=t.completion,
        due=t.due,
        agent=owner,
        rank_key=scores.composite,
        dep_src=np.asarray(graph.src, dtype=np.int64),
        dep_dst=np.asarray(graph.dst, dtype=np.int64),
        stuck=graph.in_cycle,
    )
    now_s = now.timestamp()
    progress = forecast(data, pace, speeds, prior, config.effort.hours_per_day, config.progress, now_s)
    waiting = _waiting(scores, status, owner, progress, now_s)
    history_points = [
        Snapshot(at, float(s["backlog_hours"]), int(s["open_tickets"]), float(s["health"]))
        for s in snapshots
        if (at := parse_stored_datetime(s["at"])) is not None
    ]
    workload = assess(
        agents,
        scores.agent_load_hours,
        scores.agent_load_tasks,
        _could_take(scores, status, owner),
        waiting,
        history_points,
        config.workload,
        config.effort.hours_per_day,
        config.progress.workdays_per_week,
        now,
    )
    state = TeamState(
        config=config,
        now=now,
        scores=scores,
        columns=columns,
        owner=owner,
        speeds=speeds,
        prior=prior,
        pace_hours=pace,
        progress=progress,
        workload=workload,
        history=history,
        open_rows=open_rows,
    )
    policy = config.escalation
    state.rules = rule_input(state, status)
    state.masks = rule_masks(state.rules, policy, now)
    cycles = [[(t.project[k], t.id[k]) for k in members] for members in scores.graph.cycles]
    state.cycles = cycle_findings(cycles, policy)
    state.overloaded = overload_findings(
        [
            (a.id, f"{a.hours:.0f} h in {a.tickets} tickets: {a.utilization:.0%} of capacity")
            for a in workload.agents
            if a.state == "overloaded"
        ],
        policy,
    )
    return state


def _waiting(scores: Scores, status: npt.NDArray[np.str_], owner: IntArray, progress: Progress, now: float) -> Waiting:
    t = scores.tickets
    queued = scores.queued
    remaining = progress.remaining_hours
    not_started = (status == "open") | (status == "blocked")
    ready_waiting = scores.ready & not_started
    unassigned = ready_waiting & (owner < 0)
    oldest, oldest_days = None, 0.0
    rows = np.nonzero(unassigned & ~np.isnan(t.created))[0]
    if len(rows):
        k = int(rows[np.argmin(t.created[rows])])
        oldest, oldest_days = f"{t.id[k]}", max(0.0, (now - float(t.created[k])) / DAY)
    at_risk = int((queued & (progress.level >= RISK_ORDER["high"])).sum())
    total = int(queued.sum())
    return Waiting(
        open_tickets=total,
        backlog_hours=float(remaining[queued].sum()),
        ready_tickets=int(scores.ready.sum()),
        ready_backlog_hours=float(remaining[ready_waiting].sum()),
        unassigned_ready=int(unassigned.sum()),
        unassigned_ready_hours=float(remaining[unassigned].sum()),
        oldest_ready=oldest,
        oldest_ready_days=oldest_days,
        at_risk_share=at_risk / total if total else 0.0,
    )


def _could_take(scores: Scores, status: npt.NDArray[np.str_], owner: IntArray) -> IntArray:
    """Per agent: ready, unassigned, not started tickets it is eligible for (skill coverage >= min_match)."""
    from taskdist.factors import coverage_matrix

    agents = scores.agents
    if not agents:
        return np.zeros(0, dtype=np.int64)
    rows = np.nonzero(scores.ready & (owner < 0) & ((status == "open") | (status == "blocked")))[0]
    counts: dict[tuple[str, ...], int] = {}
    required = scores.efficiency.required
    for k in rows.tolist():
        counts[required[k]] = counts.get(required[k], 0) + 1
    if not counts:
        return np.zeros(len(agents), dtype=np.int64)
    sets = list(counts)
    coverage = coverage_matrix(sets, agents)
    available = np.array([a.availability > 0 for a in agents], dtype=bool)
    capable = (coverage >= scores.min_match - 1e-12) & available[None, :]
    weights = np.array([counts[s] for s in sets], dtype=np.int64)
    return np.asarray((capable * weights[:, None]).sum(axis=0), dtype=np.int64)


def rule_input(state: TeamState, status: npt.NDArray[np.str_]) -> RuleInput:
    """The escalation rules' columns: status since when, failures, risk, eligibility, dangling references.

    Since when a ticket has its status: the later of the file's `updated` and the last status change
    the ledger recorded (an outcome event, or an import that changed the status).
    """
    scores, history = state.scores, state.history
    t = scores.tickets
    n = len(t)
    watched = (status == "in_progress") | (status == "review") | (status == "blocked")
    since = np.where(watched, state.columns.updated, np.nan)
    for key, moment in history.status_changed.items():
        k = state.row_of(*key)
        if k is not None and watched[k]:
            since[k] = np.fmax(since[k], moment)
    failures = np.zeros(n, dtype=np.int64)
    last_failed = np.full(n, np.nan)
    last_started = np.full(n, np.nan)
    failed_agents: dict[int, tuple[str, ...]] = {}
    for key, count in history.failures.items():
        k = state.row_of(*key)
        if k is None:
            continue
        failures[k] = count
        last_failed[k] = history.last_failed.get(key, math.nan)
        last_started[k] = history.last_started.get(key, math.nan)
        failed_agents[k] = tuple(dict.fromkeys(history.failed_agents.get(key, [])))
    return RuleInput(
        project=t.project,
        id=t.id,
        status=status,
        work_item=np.asarray(scores.queued, dtype=bool),
        owner=state.owner,
        agents=[a.id for a in state.agents],
        due=t.due,
        risk_level=state.progress.level,
        p_late=state.progress.p_late,
        ready=np.asarray(scores.ready, dtype=bool),
        no_eligible=np.asarray(scores.capability_gap, dtype=bool),
        status_since=since,
        failures=failures,
        last_failed=last_failed,
        last_started=last_started,
        failed_agents=failed_agents,
        dangling=scores.graph.dangling,
    )


# --- the status report ---------------------------------------------------------------------------------


@dataclass(slots=True)
class StatusReport:
    """What `taskdist status` prints: the sections asked for, built from one TeamState."""

    state: TeamState
    sections: tuple[str, ...]
    limit: int | None
    queue_rows: IntArray
    queue_matched: int
    progress_rows: list[int] = field(default_factory=list)
    containers: list[tuple[int, int]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    escalation_counts: dict[str, Any] = field(default_factory=dict)
    details: dict[tuple[str, str], store.RowDetail] = field(default_factory=dict)


def build_status(
    ledger: Ledger, config: Config, now: datetime, sections: Sequence[str] = SECTIONS, limit: int | None = DEFAULT_LIMIT
) -> StatusReport:
    """The status report: queue head, workload, progress (containers and riskiest work), escalations."""
    state = load_team_state(ledger, config, now)
    scores = state.scores
    order = scores.order
    queue_rows = order if limit is None else order[:limit]
    report = StatusReport(state, tuple(sections), limit, np.asarray(queue_rows), len(order))
    report.containers, report.progress_rows = progress_rows(state, limit)
    report.escalations, report.escalation_counts = escalation_view(state, limit)
    t = scores.tickets
    shown = [k for k, _ in report.containers] + report.progress_rows
    report.details = store.row_details(ledger, [(t.project[k], t.id[k]) for k in shown])
    return report


def progress_rows(state: TeamState, limit: int | None) -> tuple[list[tuple[int, int]], list[int]]:
    """Open containers as a tree (epics first, then by risk; each followed by its open sub-containers),
    as (row, depth), at most `limit` top-level ones; and the `limit` open work items without children
    most at risk.

    Risk order: P(late) highest first (no due date last), then the latest P90, then row.
    """
    p = state.progress
    t = state.scores.tickets
    n = len(t)
    is_container = p.is_open & (p.children > 0)
    risk = np.where(np.isnan(p.p_late), -1.0, p.p_late)
    p90 = np.where(np.isnan(p.p90), -np.inf, p.p90)
    is_work = state.scores.tickets.work_item
    parent = p.parent_index
    below: dict[int, list[int]] = {}
    roots = []
    for k in np.nonzero(is_container)[0].tolist():
        up = int(parent[k])
        if up >= 0 and is_container[up]:
            below.setdefault(up, []).append(k)
        else:
            roots.append(k)

    def rank(k: int) -> tuple[int, float, float, int]:
        # Containers that are not work themselves (epics, projects) first.
        return (1 if is_work[k] else 0, -float(risk[k]), -float(p90[k]), k)

    containers: list[tuple[int, int]] = []
    roots = sorted(roots, key=rank)
    if limit is not None:
        roots = roots[:limit]
    stack = [(k, 0) for k in reversed(roots)]
    while stack:
        k, depth = stack.pop()
        containers.append((k, depth))
        stack.extend((c, depth + 1) for c in sorted(below.get(k, []), key=rank, reverse=True))
    work = np.nonzero(state.scores.queued & ~is_container)[0] if n else np.zeros(0, dtype=np.int64)
    ordered = work[np.lexsort((work, -p90[work], -risk[work]))]
    if limit is not None:
        ordered = ordered[:limit]
    return containers, ordered.tolist()


def _entry(state: TeamState, finding: Finding) -> dict[str, Any]:
    policy = state.config.escalation
    return {
        "state": "new",
        "rule": finding.rule,
        "subject": finding.subject,
        "project": finding.project,
        "ticket": finding.ticket,
        "agent": finding.agent,
        "level": None,
        "level_name": "recovery" if finding.recoverable and policy.recovery else level_name(policy, 1),
        "cycle": 0,
        "recoveries": 0,
        "cause": finding.cause,
        "opened_at": None,
        "next_step_at": format_datetime(state.now),
    }


def escalation_view(state: TeamState, limit: int | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Open escalations (with when their next step falls due), then causes the next sweep will take up,
    most urgent first, at most `limit` of them; and the counts of all, by state and by rule.

    Only the entries shown are described in words, so a ledger with tens of thousands of causes
    still reports quickly.
    """
    policy = state.config.escalation
    counts = {"open": 0, "new": 0, "clearing": 0}
    by_rule: dict[str, int] = {}
    taken: dict[str, set[str]] = {}
    opened = {rule: np.zeros(len(mask), dtype=bool) for rule, mask in state.masks.items()}
    cols = state.open_rows.columns
    held = len(state.open_rows)
    present = np.zeros(held, dtype=bool)
    rules = np.asarray(cols["rule"], dtype=str) if held else np.zeros(0, dtype=str)
    for rule in sorted(set(cols["rule"])):
        at = np.flatnonzero(rules == rule)
        by_rule[rule] = by_rule.get(rule, 0) + len(at)
        if rule in state.masks:
            where = [state.row_of(cols["project"][i], cols["ticket"][i]) for i in at.tolist()]
            ticket_rows = np.array([-1 if k is None else k for k in where], dtype=np.int64)
            known = ticket_rows >= 0
            present[at[known]] = state.masks[rule][ticket_rows[known]]
            opened[rule][ticket_rows[known]] = True
        else:
            for i in at.tolist():
                present[i] = state.has_cause(
                    rule, cols["subject"][i], cols["project"][i], cols["ticket"][i], cols["agent"][i]
                )
                taken.setdefault(rule, set()).add(cols["subject"][i])
    counts["open"] = int(present.sum())
    counts["clearing"] = held - counts["open"]
    # Open before clearing, higher levels first, then the rule's urgency, then the subject.
    if held:
        rule_rank = np.array([RULE_ORDER.index(r) for r in cols["rule"]], dtype=np.int64)
        order = np.lexsort(
            (np.asarray(cols["subject"], dtype=str), rule_rank, -np.asarray(cols["level"], dtype=np.int64), ~present)
        )
        chosen = order if limit is None else order[:limit]
    else:
        chosen = np.zeros(0, dtype=np.int64)
    entries = [_open_entry(state, state.open_rows.record(int(i)), bool(present[i])) for i in chosen]
    room = None if limit is None else max(0, limit - len(entries))
    fresh: list[dict[str, Any]] = []
    for rule in RULE_ORDER:
        if rule in TICKET_RULES:
            mask = state.masks.get(rule)
            if mask is None or state.rules is None:
                continue
            rows = np.nonzero(mask & ~opened[rule])[0]
            total = len(rows)
            wanted = rows if room is None else rows[: max(0, room - len(fresh))]
            fresh.extend(_entry(state, describe(rule, int(k), state.rules, policy, state.now)) for k in wanted)
        else:
            group = state.cycles if rule == "dependency_cycle" else state.overloaded
            pending = [f for f in group if f.subject not in taken.get(rule, set())]
            total = len(pending)
            wanted_f = pending if room is None else pending[: max(0, room - len(fresh))]
            fresh.extend(_entry(state, f) for f in wanted_f)
        counts["new"] += total
        if total:
            by_rule[rule] = by_rule.get(rule, 0) + total
    return entries + fresh, {"by_state": counts, "by_rule": by_rule}


def _open_entry(state: TeamState, row: dict[str, Any], present: bool) -> dict[str, Any]:
    """An open escalation as the report shows it: its cause now, when its next step falls due."""
    policy = state.config.escalation
    since = parse_stored_datetime(row["last_level_at"])
    upcoming = next_level(policy, row["level"], row["cycle"]) if row["level"] > 0 else (1, row["cycle"])
    cause = row["cause"]
    if present and row["rule"] in state.masks and state.rules is not None:
        k = state.row_of(row["project"], row["ticket"])
        if k is not None:
            cause = describe(row["rule"], k, state.rules, policy, state.now).cause
    due = since + timeout(policy, row["level"]) if since is not None and upcoming is not None and present else None
    return {
        "state": "open" if present else "clearing",
        "rule": row["rule"],
        "subject": row["subject"],
        "project": row["project"],
        "ticket": row["ticket"],
        "agent": row["agent"],
        "level": row["level"],
        "level_name": level_name(policy, row["level"]),
        "cycle": row["cycle"],
        "recoveries": row["recoveries"],
        "cause": cause,
        "opened_at": row["opened_at"],
        "next_step_at": format_datetime(due) if due is not None else None,
    }
