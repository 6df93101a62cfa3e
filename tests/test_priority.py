"""Each priority factor on hand-made cases whose values are worked out in the test."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from taskdist.config import Config, PriorityConfig, config_from_mapping
from taskdist.errors import ConfigError
from taskdist.explain import explain_row
from taskdist.factors import FACTORS, signal_value
from taskdist.models import Kind, Priority, Status
from taskdist.priority import next_change
from tests.conftest import NOW
from tests.priority_tools import agent, row, score, ticket, with_weights

U, B, E, R, D = range(5)


def test_urgency_steps_with_slack() -> None:
    # due in 3 days with 12 h left at 8 h a day: slack 1.5 days, in the (1, 2] band -> 1 - 2/30.
    s = score([ticket("A", due=NOW + timedelta(days=3), estimate_hours=12.0, created=None)])
    assert s.urgency.slack_days[0] == pytest.approx(1.5)
    assert s.factors[0, U] == pytest.approx(1 - 2 / 30)


@pytest.mark.parametrize(
    ("due_days", "hours", "expected"),
    [
        (-2.0, 8.0, 1.0),  # overdue
        (0.5, 8.0, 1.0),  # 1 day of work, half a day left: cannot finish in time
        (1.0, 8.0, 1.0),  # slack exactly 0
        (4.0, 0.0, 1 - 5 / 30),  # slack 4 -> band (3, 5]
        (30.0, 0.0, 0.0),  # slack 30 -> band (21, 30] -> 1 - 30/30
        (45.0, 0.0, 0.0),  # beyond the horizon
    ],
)
def test_urgency_bands(due_days: float, hours: float, expected: float) -> None:
    s = score([ticket("A", due=NOW + timedelta(days=due_days), estimate_hours=hours, created=None)])
    assert s.factors[0, U] == pytest.approx(expected)


def test_remaining_work_uses_completion() -> None:
    # 40 h at 75% done leaves 10 h = 1.25 days; due in 2 days -> slack 0.75 -> band (0, 1].
    s = score([ticket("A", due=NOW + timedelta(days=2), estimate_hours=40.0, completion_pct=75.0, created=None)])
    assert s.urgency.remaining_hours[0] == pytest.approx(10.0)
    assert s.factors[0, U] == pytest.approx(1 - 1 / 30)


def test_age_raises_urgency_in_weekly_steps_up_to_the_cap() -> None:
    s = score(
        [
            ticket("A", created=NOW - timedelta(days=100)),
            ticket("B", created=NOW - timedelta(days=400)),
            ticket("C", created=None),
            ticket("D", created=NOW - timedelta(days=100), due=NOW + timedelta(days=90)),
        ]
    )
    assert s.factors[row(s, "A"), U] == pytest.approx(0.5 * 98 / 180)  # 14 whole weeks
    assert s.factors[row(s, "B"), U] == pytest.approx(0.5)
    assert s.factors[row(s, "C"), U] == 0.0
    assert s.factors[row(s, "D"), U] == pytest.approx(0.5 * 98 / 180)  # the age step beats a far deadline


def test_next_change_is_the_next_urgency_step() -> None:
    config = Config()
    s = score([ticket("A", due=NOW + timedelta(days=3), estimate_hours=12.0, created=None)])
    change = next_change(s, 0, config)
    assert change is not None
    assert change.at == NOW + timedelta(hours=12)  # slack 1.5 -> 1.0 days
    assert change.urgency_before == pytest.approx(1 - 2 / 30)
    assert change.urgency_after == pytest.approx(1 - 1 / 30)
    assert "1 day" in change.reason
    later = score([ticket("A", due=NOW + timedelta(days=3), estimate_hours=12.0, created=None)], now=change.at)
    assert later.factors[0, U] == pytest.approx(change.urgency_after)
    just_before = score(
        [ticket("A", due=NOW + timedelta(days=3), estimate_hours=12.0, created=None)],
        now=change.at - timedelta(seconds=1),
    )
    assert just_before.factors[0, U] == pytest.approx(change.urgency_before)


def test_next_change_for_age_and_none_at_the_top() -> None:
    config = Config()
    s = score([ticket("A", created=NOW - timedelta(days=10)), ticket("B", due=NOW - timedelta(days=1))])
    change = next_change(s, row(s, "A"), config)
    assert change is not None and change.at == NOW + timedelta(days=4)  # 14 days old: the 2nd week step
    assert "age" in change.reason
    assert next_change(s, row(s, "B"), config) is None  # overdue: urgency is already 1


def test_business_impact_label_and_signals() -> None:
    s = score(
        [
            ticket("L", priority=Priority.LOW),
            ticket("N"),
            ticket("H", priority=Priority.HIGH, business={"client_tier": "enterprise"}),
            ticket("C", priority=Priority.CRITICAL, business={"client_tier": "free", "strategic_importance": "high"}),
            ticket("X", priority=Priority.HIGH, business={"client_tier": "no idea"}),
        ]
    )
    assert s.factors[row(s, "L"), B] == 0.25
    assert s.factors[row(s, "N"), B] == 0.5  # no label: medium
    assert s.factors[row(s, "H"), B] == pytest.approx((2 * 0.75 + 1.0) / 3)
    assert s.factors[row(s, "C"), B] == pytest.approx((2 * 1.0 + 0.0 + 0.75) / 4)
    assert s.factors[row(s, "X"), B] == 0.75  # an unreadable signal is not counted


@pytest.mark.parametrize(
    ("raw", "expected"), [("tier 1", 1.0), ("T2", 2 / 3), ("0.4", 0.4), ("4", 0.8), ("7", 0.7), ("-1", None)]
)
def test_signal_values(raw: str, expected: float | None) -> None:
    from taskdist.factors import _LEVELS, _TIERS

    vocabulary = _TIERS if "t" in raw.lower() else _LEVELS
    found = signal_value(raw, vocabulary)
    assert found == (pytest.approx(expected) if expected is not None else None)


def test_resource_efficiency_capable_free_agents() -> None:
    roster = [
        agent("py", {"python": 0.9, "backend": 0.9}),
        agent("py2", {"python": 0.85}, capacity_hours=40.0),
        agent("fe", {"frontend": 0.9}),
    ]
    s = score(
        [
            ticket("P", skills=("python", "migration"), skills_source="tags"),
            ticket("M", skills=("migration",), skills_source="explicit"),
            ticket("N"),
            ticket("Busy", skills=("frontend",), skills_source="tags"),
            ticket("Held", skills=("frontend",), skills_source="tags", assignee="fe", estimate_hours=40.0),
        ],
        roster,
    )
    p = row(s, "P")
    # `migration` is a tag no agent has: ignored. Two agents cover python at >= 0.8 and are free.
    assert s.efficiency.required[p] == ("python",)
    assert s.efficiency.capable[p] == 2
    assert s.factors[p, E] == pytest.approx(1 - math.exp(-(0.9 + 0.85)))
    m = row(s, "M")
    assert s.factors[m, E] == 0.0 and "capability gap" in s.flags(m)
    assert s.efficiency.capable[row(s, "N")] == 3  # no named skill: anyone
    busy = row(s, "Busy")
    # `fe` holds 40 h of its 40 h: capable, but no room.
    assert s.efficiency.capable[busy] == 1 and s.factors[busy, E] == 0.0
    assert "no free agent" in s.flags(busy) and "capability gap" not in s.flags(busy)


def test_no_roster_means_zero_efficiency_and_a_note_not_a_gap() -> None:
    s = score([ticket("A", skills=("python",), skills_source="explicit")])
    assert s.factors[0, E] == 0.0
    assert "capability gap" not in s.flags(0)
    assert any("no roster" in note for note in s.notes)


def test_revenue_is_log_scaled_across_the_queue() -> None:
    s = score(
        [
            ticket("Small", business={"revenue_potential": 1000.0}),
            ticket("Big", business={"revenue_potential": 100000.0}),
            ticket("Margin", business={"revenue": 100000.0, "margin": 0.5, "cost": 1000.0}),
            ticket("Pipe", business={"pipeline_value": 20000.0}),
            ticket("Cost", business={"cost": 500.0}),
            ticket("Done", status=Status.DONE, business={"revenue_potential": 1e9}),
        ]
    )
    top = math.log1p(100000.0)
    assert s.factors[row(s, "Big"), R] == 1.0  # the closed ticket's billion does not set the scale
    assert s.factors[row(s, "Small"), R] == pytest.approx(math.log1p(1000.0) / top)
    assert s.factors[row(s, "Margin"), R] == pytest.approx(math.log1p(49000.0) / top)
    assert s.factors[row(s, "Pipe"), R] == pytest.approx(math.log1p(10000.0) / top)
    assert s.factors[row(s, "Cost"), R] == 0.0
    assert s.revenue_net[row(s, "Cost")] == -500.0


def test_dependency_sums_all_transitive_dependents() -> None:
    tickets = [ticket("ONE"), ticket("TEN")]
    tickets += [ticket("D1", depends_on=("ONE",), estimate_hours=4.0)]
    tickets += [
        ticket(f"W{k}", depends_on=("TEN",) if k == 0 else (f"W{k - 1}",), estimate_hours=4.0) for k in range(10)
    ]
    s = score(tickets)
    one, ten = row(s, "ONE"), row(s, "TEN")
    assert s.downstream_count[ten] == 10 and s.downstream_hours[ten] == 40.0
    assert s.factors[ten, D] == pytest.approx(1 - math.exp(-1.0))
    assert s.factors[one, D] == pytest.approx(1 - math.exp(-0.1))
    assert s.factors[ten, D] > s.factors[one, D]


def test_containers_and_closed_tickets_are_not_queued_but_still_link() -> None:
    s = score(
        [
            ticket("EP", kind=Kind.EPIC),
            ticket("OLD", status=Status.DONE),
            ticket("A", parent="EP"),
            ticket("B", depends_on=("OLD",)),
            ticket("C", depends_on=("EP",)),
        ]
    )
    queued = {s.tickets.id[k] for k in s.order.tolist()}
    assert queued == {"A", "B", "C"}
    assert s.ready[row(s, "A")]  # a parent is containment, not a prerequisite
    assert s.ready[row(s, "B")]  # closed prerequisite
    assert not s.ready[row(s, "C")]  # an open epic named as a prerequisite still blocks
    assert s.rank[row(s, "EP")] == 0


def test_status_blocked_is_not_ready() -> None:
    s = score([ticket("A", status=Status.BLOCKED), ticket("B", status=Status.IN_PROGRESS)])
    assert not s.ready[row(s, "A")] and "status blocked" in s.flags(row(s, "A"))
    assert s.ready[row(s, "B")]


def test_missing_file_is_not_queued() -> None:
    from taskdist.priority import score_tickets
    from taskdist.ticket_arrays import TicketArrays

    arrays = TicketArrays.from_tickets([ticket("A"), ticket("B")], missing=[True, False])
    s = score_tickets(arrays, [], Config(), NOW)
    assert s.queued.tolist() == [False, True]


def test_composite_is_the_sum_of_contributions_on_0_to_100() -> None:
    tickets = [ticket("A", priority=Priority.CRITICAL, due=NOW - timedelta(days=1)), ticket("B", depends_on=("A",))]
    s = score(tickets)
    assert np.allclose(s.contributions.sum(axis=1), s.composite, atol=1e-12)
    doubled = score(tickets, config=with_weights(Config(), **{f: 2 * getattr(Config().weights, f) for f in FACTORS}))
    assert np.allclose(doubled.composite, s.composite)  # only the weights' ratios matter
    assert s.composite[row(s, "A")] == pytest.approx(100 * (0.25 + 0.30 + 0.10 * (1 - math.exp(-8 / 40))))
    assert s.order.tolist() == [row(s, "A"), row(s, "B")]


def test_all_zero_weights_is_a_config_error() -> None:
    zero = with_weights(Config(), **dict.fromkeys(FACTORS, 0.0))
    with pytest.raises(ConfigError, match="weights"):
        score([ticket("A")], config=zero)


def test_explain_row_lines_add_up_and_speak() -> None:
    tickets = [
        ticket("A", due=NOW + timedelta(days=3), estimate_hours=12.0, priority=Priority.HIGH),
        ticket("B", depends_on=("A", "GONE-9")),
        ticket("C", depends_on=("B",)),
    ]
    s = score(tickets, [agent("x", {"python": 1.0})])
    exp = explain_row(s, row(s, "A"), Config())
    assert sum(line.contribution for line in exp.factors) == pytest.approx(exp.composite, abs=1e-9)
    words = {line.name: line.inputs for line in exp.factors}
    assert "due in 3.0 days, 12 h of work left" in words["urgency"] and "slack 1.5 days" in words["urgency"]
    assert "priority high" in words["business_impact"]
    assert "unblocks 2 tickets" in words["dependency"]
    assert exp.unblocks == ["B", "C"] and exp.blocked_by == []
    b = explain_row(s, row(s, "B"), Config())
    assert b.blocked_by == ["A"] and b.dangling == ["GONE-9"] and not b.ready
    assert "dangling" in b.flags


def test_priority_config_validation() -> None:
    with pytest.raises(ConfigError, match="urgency_thresholds_days"):
        config_from_mapping({"priority": {"urgency_thresholds_days": [3.0, 2.0]}}, Path("."))
    with pytest.raises(ConfigError, match="age_cap"):
        PriorityConfig(age_cap=1.5).check()
    custom = Config()._replace(priority=PriorityConfig(urgency_thresholds_days=(10.0,)))
    s = score([ticket("A", due=NOW + timedelta(days=5), estimate_hours=0.0, created=None)], config=custom)
    assert s.factors[0, U] == 0.0  # one band (0, 10]: 1 - 10/10


def test_the_commented_default_config_matches_the_defaults() -> None:
    from pathlib import Path

    import yaml

    from taskdist.config import config_from_mapping, default_config_text

    parsed = config_from_mapping(yaml.safe_load(default_config_text([], None)), Path("."))
    assert parsed.priority == PriorityConfig()
    assert parsed.weights == Config().weights
