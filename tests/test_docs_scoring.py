"""docs/scoring.md's worked example, recomputed through the real engine: the page cannot drift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from taskdist.config import Config
from taskdist.explain import explain_row
from taskdist.models import Agent, Kind, Priority, Status, Ticket
from taskdist.priority import Scores, score_tickets
from taskdist.ticket_arrays import TicketArrays
from taskdist.tickets.normalize import normalize_datetime

DOC = Path(__file__).resolve().parent.parent / "docs" / "scoring.md"


def _section(text: str, marker: str) -> str:
    return text.split(f"<!-- worked-example: {marker} -->", 1)[1]


def _example() -> tuple[dict[str, Any], str]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", _section(text, "inputs"), re.DOTALL)
    assert block is not None
    return yaml.safe_load(block.group(1)), _section(text, "results")


def _tickets(data: dict[str, Any]) -> list[Ticket]:
    return [
        Ticket(
            project="example",
            id=t["id"],
            kind=Kind.TASK,
            title=t["title"],
            status=Status(t.get("status", "open")),
            priority=Priority(t["priority"]) if t.get("priority") else None,
            assignee=t.get("assignee"),
            created=normalize_datetime(t.get("created")),
            due=normalize_datetime(t.get("due")),
            estimate_hours=float(t["estimate_hours"]),
            estimate_source="estimated_hours",
            estimate_assumed=False,
            completion_pct=t.get("completion_pct"),
            skills=tuple(t.get("skills", ())),
            skills_source="tags" if t.get("skills") else "none",
            depends_on=tuple(t.get("depends_on", ())),
            business={k: float(v) if isinstance(v, (int, float)) else v for k, v in t.get("business", {}).items()},
        )
        for t in data["tickets"]
    ]


def _scores() -> tuple[Scores, str, dict[str, Any]]:
    data, results = _example()
    agents = [
        Agent(
            id=a["id"], name=a["id"], skills=a["skills"], capacity_hours=a["capacity_hours"], max_tasks=a["max_tasks"]
        )
        for a in data["roster"]
    ]
    now = normalize_datetime(data["now"])
    assert now is not None
    return score_tickets(TicketArrays.from_tickets(_tickets(data)), agents, Config(), now), results, data


def _table(results: str, header: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    inside = False
    for line in results.splitlines():
        if line.startswith(f"| {header} |"):
            inside = True
            continue
        if inside and line.startswith("|---"):
            continue
        if inside and line.startswith("|"):
            cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
        elif inside:
            break
    return rows


def _close(shown: str, actual: float) -> None:
    """The page rounds: the computed value must round to what it shows."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    assert round(actual, decimals) == pytest.approx(float(shown)), (shown, actual)


def test_the_worked_example_matches_the_engine() -> None:
    scores, results, _ = _scores()
    k = scores.tickets.id.index("API-1")
    inputs = _table(results, "input")
    computed = {
        "remaining hours": scores.urgency.remaining_hours[k],
        "slack days": scores.urgency.slack_days[k],
        "age days": scores.urgency.age_days[k],
        "readiness": scores.efficiency.readiness[k],
        "net revenue": scores.revenue_net[k],
        "downstream tickets": scores.downstream_count[k],
        "downstream hours": scores.downstream_hours[k],
    }
    assert set(inputs) == set(computed)
    for name, (shown,) in inputs.items():
        _close(shown, float(computed[name]))

    explanation = explain_row(scores, k, Config())
    factors = _table(results, "factor")
    for line in explanation.factors:
        value, weight, contribution = factors[line.name]
        _close(value, line.value)
        _close(weight, line.weight)
        _close(contribution, line.contribution)
    _close(factors["priority"][2], explanation.composite)
    assert explanation.rank == 1 and explanation.queue_size == 5


def test_the_example_ranking_and_next_change_match() -> None:
    scores, results, _ = _scores()
    ranking = re.search(r"\(then (.*?)\)", results)
    assert ranking is not None
    shown = [item.rsplit(" ", 1) for item in ranking.group(1).split(", ")]
    order = scores.order.tolist()[1:]
    assert [scores.tickets.id[k] for k in order] == [name for name, _ in shown]
    for k, (_, value) in zip(order, shown, strict=True):
        _close(value, float(scores.composite[k]))
    change = explain_row(scores, scores.tickets.id.index("API-1"), Config()).next_change
    assert change is not None
    stamp = re.search(r"\*\*next change\*\* is at (\S+),", results)
    assert stamp is not None and change.at.strftime("%Y-%m-%dT%H:%M:%SZ") == stamp.group(1)
    steps = re.search(r"urgency steps from\s+([\d.]+) to ([\d.]+)", results)
    assert steps is not None
    _close(steps.group(1), change.urgency_before)
    _close(steps.group(2), change.urgency_after)


def test_the_prose_numbers_match_too() -> None:
    text = DOC.read_text(encoding="utf-8")
    prose = _section(text, "inputs").split("<!-- worked-example: results -->")[0]
    scores, _, _ = _scores()
    k = scores.tickets.id.index("API-1")
    for shown, actual in (
        ("0.9333", scores.factors[k, 0]),
        ("0.0778", scores.urgency.age_part[k]),
        ("0.8333", scores.factors[k, 1]),
        ("0.4908", scores.factors[k, 2]),
        ("0.9289", scores.factors[k, 3]),
        ("0.3297", scores.factors[k, 4]),
    ):
        assert shown in prose
        _close(shown, float(actual))
