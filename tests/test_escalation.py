"""Escalation: the rules, the level/timeout/repeat policy, recovery first, and the sweep over a ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from taskdist.config import CONFIG_NAME, Config, EscalationConfig, EscalationLevel, config_from_mapping
from taskdist.errors import ConfigError
from taskdist.escalation import Finding, Recovery, RuleInput, find, plan_sweep, rule_masks
from taskdist.ledger import events as event_log
from taskdist.ledger import status as store
from taskdist.outcomes import record_outcome
from taskdist.status import load_team_state
from taskdist.sweep import run_sweep
from tests.conftest import NOW
from tests.status_tools import Spec, import_project, write_project

POLICY = EscalationConfig(
    levels=(EscalationLevel("assignee", 24.0), EscalationLevel("lead", 48.0)),
    repeat=1,
)


def row(step: Any, at: datetime, escalation_id: int = 1) -> dict[str, Any]:
    """The escalations-table row a planned step leaves behind."""
    return {
        "id": step.escalation_id or escalation_id,
        "rule": step.rule,
        "subject": step.subject,
        "project": step.project,
        "ticket": step.ticket,
        "agent": step.agent,
        "level": step.level,
        "cycle": step.cycle,
        "recoveries": step.recoveries,
        "opened_at": "2026-01-01T00:00:00Z",
        "last_level_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cause": step.cause,
        "data": {"tried": list(step.tried)},
    }


def never(_: Finding, __: tuple[str, ...]) -> Recovery | None:
    return None


OVERDUE = Finding("overdue", "p:T1", "due yesterday", project="p", ticket="T1")


def test_levels_rise_after_their_timeouts_then_repeat_then_stay() -> None:
    (first,) = plan_sweep([OVERDUE], [], POLICY, NOW, never)
    assert (first.action, first.level, first.level_name) == ("escalate", 1, "assignee")
    state = row(first, NOW)
    assert plan_sweep([OVERDUE], [state], POLICY, NOW + timedelta(hours=23), never) == []
    (second,) = plan_sweep([OVERDUE], [state], POLICY, NOW + timedelta(hours=24), never)
    assert (second.level, second.cycle, second.level_name) == (2, 0, "lead")
    later = NOW + timedelta(hours=24)
    (third,) = plan_sweep([OVERDUE], [row(second, later)], POLICY, later + timedelta(hours=48), never)
    assert (third.level, third.cycle) == (1, 1)  # repeat: the policy starts again at level 1
    at = later + timedelta(hours=48)
    (fourth,) = plan_sweep([OVERDUE], [row(third, at)], POLICY, at + timedelta(hours=24), never)
    assert (fourth.level, fourth.cycle) == (2, 1)
    at += timedelta(hours=24)
    assert plan_sweep([OVERDUE], [row(fourth, at)], POLICY, at + timedelta(days=30), never) == []


def test_repeat_count_has_no_upper_bound() -> None:
    policy = POLICY._replace(levels=(EscalationLevel("only", 1.0),), repeat=1000)
    state = row(plan_sweep([OVERDUE], [], policy, NOW, never)[0], NOW)
    at = NOW
    for _ in range(1000):
        at += timedelta(hours=1)
        (step,) = plan_sweep([OVERDUE], [state], policy, at, never)
        state = row(step, at)
    assert state["cycle"] == 1000
    assert plan_sweep([OVERDUE], [state], policy, at + timedelta(hours=5), never) == []


def test_cleared_cause_closes_and_disabled_rule_closes_too() -> None:
    state = row(plan_sweep([OVERDUE], [], POLICY, NOW, never)[0], NOW)
    (closed,) = plan_sweep([], [state], POLICY, NOW + timedelta(minutes=1), never)
    assert (closed.action, closed.escalation_id, closed.detail) == ("close", 1, "the cause cleared")
    off = POLICY._replace(rules=("failed",))
    assert plan_sweep([OVERDUE], [state], off, NOW, never)[0].action == "close"


def test_recovery_comes_first_then_levels_once_recoveries_run_out() -> None:
    failed = Finding(
        "failed",
        "p:T1",
        "failed 1 time (by alice)",
        project="p",
        ticket="T1",
        agent="alice",
        recoverable=True,
        exclude=("alice",),
    )
    offered: list[tuple[str, ...]] = []

    def recover(_: Finding, excluded: tuple[str, ...]) -> Recovery | None:
        offered.append(excluded)
        return Recovery("bob", 0.9, "coverage 0.85") if "bob" not in excluded else None

    (first,) = plan_sweep([failed], [], POLICY, NOW, recover)
    assert (first.action, first.level, first.to_agent, first.from_agent) == ("recover", 0, "bob", "alice")
    assert offered == [("alice",)]
    state = row(first, NOW)
    assert plan_sweep([failed], [state], POLICY, NOW + timedelta(hours=23), recover) == []
    (second,) = plan_sweep([failed], [state], POLICY, NOW + timedelta(hours=24), recover)
    assert (second.action, second.level) == ("escalate", 1)  # max_recoveries 1: people are told now


def test_recovery_that_finds_nobody_escalates_at_once_and_says_why() -> None:
    failed = Finding("failed", "p:T1", "failed", project="p", ticket="T1", recoverable=True)
    (step,) = plan_sweep([failed], [], POLICY, NOW, never)
    assert (step.action, step.level, step.detail) == ("escalate", 1, "no eligible alternative agent")


def rules_input(**overrides: Any) -> RuleInput:
    base = {"project": "p", "id": "T1", "status": "open", "band": "none"}
    return RuleInput.from_records([{**base, **overrides}])


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"due": NOW - timedelta(days=1)}, "overdue"),
        ({"due": NOW + timedelta(days=1), "band": "critical", "p_late": 0.9}, "delay_risk"),
        ({"status": "in_progress", "status_since": NOW - timedelta(days=6)}, "stalled"),
        ({"status": "blocked", "status_since": NOW - timedelta(days=8)}, "blocked"),
        ({"failures": 1, "last_failed": NOW - timedelta(hours=1), "failed_agents": ["alice"]}, "failed"),
        ({"no_eligible": True}, "no_eligible_agent"),
        ({"dangling": ["GONE-1"]}, "dangling_dependency"),
    ],
)
def test_each_ticket_rule_fires_on_its_cause(overrides: dict[str, Any], rule: str) -> None:
    masks = rule_masks(rules_input(**overrides), EscalationConfig(), NOW)
    assert [name for name, mask in masks.items() if mask[0]] == [rule]


def test_rules_stay_quiet_below_their_thresholds() -> None:
    quiet = [
        {"status": "in_progress", "status_since": NOW - timedelta(days=4)},
        {"status": "blocked", "status_since": NOW - timedelta(days=6)},
        {"due": NOW + timedelta(days=1), "band": "medium", "p_late": 0.3},
        {"no_eligible": True, "agent": "alice"},
        {"due": NOW - timedelta(days=3), "status": "done"},
        {"failures": 1, "last_failed": NOW - timedelta(hours=2), "last_started": NOW - timedelta(hours=1)},
    ]
    for overrides in quiet:
        masks = rule_masks(rules_input(**overrides), EscalationConfig(), NOW)
        assert not any(mask[0] for mask in masks.values()), overrides


def test_failing_too_often_stays_a_cause_after_a_restart() -> None:
    data = rules_input(failures=2, last_failed=NOW - timedelta(hours=2), last_started=NOW - timedelta(hours=1))
    (finding,) = find(data, [], [], EscalationConfig(), NOW)
    assert finding.rule == "failed" and finding.cause.startswith("failed 2 times")


def test_cycles_and_overloaded_agents_are_findings() -> None:
    found = find(rules_input(), [[("p", "B"), ("p", "A")]], [("alice", "130% of capacity")], EscalationConfig(), NOW)
    assert [(f.rule, f.subject) for f in found] == [
        ("dependency_cycle", "cycle:p:A"),
        ("agent_overloaded", "agent:alice"),
    ]


def test_policy_parses_from_yaml_and_names_bad_keys(tmp_path: Path) -> None:
    text = """
escalation:
  levels:
    - {name: on-call, timeout_hours: 2}
    - {name: lead, timeout_hours: 8}
  repeat: 5
  stalled_days: 3
  delay_risk: critical
  rules: [overdue, failed]
"""
    config = config_from_mapping(yaml.safe_load(text), tmp_path)
    policy = config.escalation
    assert policy.levels == (EscalationLevel("on-call", 2.0), EscalationLevel("lead", 8.0))
    assert (policy.repeat, policy.stalled_days, policy.delay_risk, policy.rules) == (
        5,
        3.0,
        "critical",
        ("overdue", "failed"),
    )
    for bad, key in [
        ({"levels": [{"name": "x", "timeout": 1}]}, "escalation.levels[0].timeout"),
        ({"levels": [{"timeout_hours": 1}]}, "escalation.levels[0]"),
        ({"levels": []}, "escalation.levels"),
        ({"delay_risk": "huge"}, "escalation.delay_risk"),
        ({"rules": ["overdue", "bored"]}, "escalation.rules"),
        ({"stall_days": 3}, "escalation.stall_days"),
    ]:
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            config_from_mapping({"escalation": bad}, tmp_path)
    assert CONFIG_NAME == "taskdist.yaml"


# --- the sweep over a real ledger ------------------------------------------------------------------------


def kinds(ledger: Any, ticket: str) -> list[str]:
    return [e["kind"] for e in event_log.ticket_events(ledger, "demo", ticket)]


def test_unassigned_forty_hours_due_tomorrow_is_at_risk_and_escalated(tmp_path: Path) -> None:
    folder, roster = write_project(tmp_path, [Spec("T-1", hours=40, due="2026-11-23")])
    ledger = import_project(tmp_path / "l.db", folder, roster, NOW)
    state = load_team_state(ledger, Config(), NOW)
    k = state.row_of("demo", "T-1")
    assert k is not None
    assert state.progress.band_at(k) in ("high", "critical")
    report = run_sweep(ledger, Config(), NOW, apply=True)
    (step,) = [s for s in report.steps if s.ticket == "T-1"]
    assert (step.action, step.rule, step.level) == ("escalate", "delay_risk", 1)
    assert step.detail == "no eligible alternative agent"  # nobody can finish 40 h by tomorrow
    assert [r["rule"] for r in store.open_escalations(ledger).records()] == ["delay_risk"]
    assert "escalated" in kinds(ledger, "T-1")


def test_overdue_escalates_rises_after_its_timeout_and_closes_when_done(tmp_path: Path) -> None:
    folder, roster = write_project(tmp_path, [Spec("T-2", assignee="alice", due="2026-11-21", hours=2)])
    ledger = import_project(tmp_path / "l.db", folder, roster, NOW)
    config = Config()
    first = run_sweep(ledger, config, NOW, apply=True)
    assert [(s.rule, s.level) for s in first.steps] == [("overdue", 1)]
    assert run_sweep(ledger, config, NOW + timedelta(hours=23), apply=True).steps == []
    later = NOW + timedelta(hours=25)
    second = run_sweep(ledger, config, later, apply=True)
    assert [(s.rule, s.action, s.level, s.level_name) for s in second.steps] == [
        ("overdue", "escalate", 2, "tech-lead")
    ]
    record_outcome(ledger, config, later + timedelta(hours=1), "T-2", "done", actual_hours=3.0)
    third = run_sweep(ledger, config, later + timedelta(hours=2), apply=True)
    assert [(s.rule, s.action) for s in third.steps] == [("overdue", "close")]
    assert len(store.open_escalations(ledger)) == 0
    assert kinds(ledger, "T-2")[-4:] == ["escalated", "escalated", "done", "escalation_closed"]


def test_fail_recovers_to_another_eligible_agent_before_any_level(tmp_path: Path) -> None:
    folder, roster = write_project(tmp_path, [Spec("T-3", assignee="alice", hours=6, due="2026-12-20")])
    ledger = import_project(tmp_path / "l.db", folder, roster, NOW)
    config = Config()
    record_outcome(ledger, config, NOW, "T-3", "started")
    result = record_outcome(ledger, config, NOW + timedelta(hours=1), "T-3", "failed", reason="tests keep failing")
    assert (result.agent, result.status_after) == ("alice", "open")
    dry = run_sweep(ledger, config, NOW + timedelta(hours=2), apply=False)
    assert [(s.action, s.to_agent) for s in dry.steps] == [("recover", "bob")]
    report = run_sweep(ledger, config, NOW + timedelta(hours=2), apply=True)
    (step,) = report.steps
    assert (step.action, step.rule, step.level, step.from_agent, step.to_agent) == (
        "recover",
        "failed",
        0,
        "alice",
        "bob",
    )
    history = kinds(ledger, "T-3")
    assert "escalated" not in history
    assert history[-2:] == ["reassigned", "recovered"]
    state = load_team_state(ledger, config, NOW + timedelta(hours=3))
    k = state.row_of("demo", "T-3")
    assert k is not None and state.agents[int(state.owner[k])].id == "bob"
    # bob starts it: the cause (failed, not restarted) clears and the escalation closes.
    record_outcome(ledger, config, NOW + timedelta(hours=4), "T-3", "started")
    closing = run_sweep(ledger, config, NOW + timedelta(hours=5), apply=True)
    assert [(s.rule, s.action) for s in closing.steps] == [("failed", "close")]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    from tests.ledger_tools import dump

    folder, roster = write_project(tmp_path, [Spec("T-4", due="2026-11-01")])
    ledger = import_project(tmp_path / "l.db", folder, roster, NOW)
    ledger.close()
    before = dump(tmp_path / "l.db")
    from taskdist.ledger.db import open_ledger

    ledger = open_ledger(tmp_path / "l.db")
    report = run_sweep(ledger, Config(), NOW, apply=False)
    ledger.close()
    assert report.steps and not report.applied
    assert dump(tmp_path / "l.db") == before
