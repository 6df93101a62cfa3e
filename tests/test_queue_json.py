"""The fast `queue --format json` writer gives exactly the bytes of `json.dumps` on plain records.

The writer formats whole columns at once (escaping only the rows that need it, each distinct
factor value once); these tests build the same records the slow, obvious way and compare bytes,
on backlogs with hostile text (quotes, backslashes, control and C1 characters, non-ASCII, NUL).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.factors import FACTORS
from taskdist.graph import build_graph
from taskdist.models import Kind, Status, Ticket
from taskdist.queue import QueueFilter, QueueReport, select
from taskdist.render import priority as render
from taskdist.render import safe, safe_json
from tests.conftest import NOW
from tests.priority_tools import agent, score, ticket

# Text that needs every kind of JSON escaping and terminal sanitising, next to plain text.
hostile = st.text(
    st.characters(codec="utf-8") | st.sampled_from('"\\\x00\x1b\x9b\n\t\u2028é漢'),
    max_size=12,
)


def reference_json(report: QueueReport) -> str:
    """The queue document built record by record with `json.dumps` (the contract's definition)."""
    s = report.scores
    t = s.tickets
    records: list[dict[str, Any]] = []
    for k in report.rows.tolist():
        records.append(
            {
                "rank": int(s.rank[k]),
                "project": t.project[k],
                "id": t.id[k],
                "title": t.title[k],
                "status": t.status[k],
                "label": t.label[k],
                "priority": float(s.composite[k]),
                "ready": bool(s.ready[k]),
                "blocked_by": [t.id[j] for j in s.graph.open_dependencies(k)],
                # Dangling references print on one line (newlines folded), as they always have.
                "dangling": [safe(r) for r in s.graph.dangling.get(k, ())],
                "unblocks": int(s.downstream_count[k]),
                "flags": s.flags(k),
                "assignee": t.assignee[k],
                "due": t.due_text[k],
                "factors": {
                    name: {
                        "value": float(s.factors[k, f]),
                        "weight": float(s.weights[f]),
                        "contribution": float(s.contributions[k, f]),
                    }
                    for f, name in enumerate(FACTORS)
                },
            }
        )
    if not records:
        return "[]\n"
    return "[\n  " + ",\n  ".join(json.dumps(safe_json(r)) for r in records) + "\n]\n"


def _due(hour: int, days: int) -> datetime:
    return NOW + timedelta(days=days, hours=hour)


@st.composite
def hostile_backlogs(draw: st.DrawFn) -> list[Ticket]:
    ids = draw(st.lists(hostile.filter(bool), min_size=1, max_size=12, unique=True))
    tickets = []
    for hour, ticket_id in enumerate(ids):
        others = st.sampled_from(ids) | hostile.filter(lambda r: r not in ids)  # real or dangling
        tickets.append(
            ticket(
                ticket_id,
                title=draw(hostile),
                kind=draw(st.sampled_from([Kind.TASK, Kind.BUG, Kind.EPIC])),
                status=draw(st.sampled_from(list(Status))),
                assignee=draw(st.none() | st.sampled_from(["backend-1", "Backend Agent"]) | hostile),
                due=draw(st.none() | st.integers(-20, 40).map(partial(_due, hour))),
                estimate_hours=draw(st.sampled_from([0.0, 1.0, 8.0, 33.3])),
                depends_on=tuple(draw(st.lists(others, max_size=3))),
                skills=draw(st.sampled_from([(), ("python",), ("python", "backend"), ("frontend",)])),
            )
        )
    return tickets


ROSTER = [
    agent("backend-1", {"python": 0.9, "backend": 0.9}, aliases=("Backend Agent",)),
    agent("frontend-1", {"frontend": 0.9}),
]


@settings(max_examples=150, deadline=None)
@given(hostile_backlogs(), st.booleans(), st.none() | st.integers(0, 4))
def test_fast_json_is_json_dumps_of_the_records(tickets: list[Ticket], roster: bool, limit: int | None) -> None:
    s = score(tickets, ROSTER if roster else [])
    for filters in (QueueFilter(), QueueFilter(limit=limit), QueueFilter(ready_only=True)):
        report = select(s, filters)
        assert render.queue_json(report) == reference_json(report)


def test_fast_json_on_a_big_queue_with_repeating_values() -> None:
    """Enough rows that every column takes its formatted-once path (few distinct values)."""
    tickets = [
        ticket(
            f"T-{k:04d}",
            title=('naïve "quote" \x1b[31m' if k % 97 == 0 else f"plain {k % 7}"),
            due=NOW + timedelta(days=k % 30 - 5) if k % 3 else None,
            depends_on=(f"T-{k - 1:04d}", f"T-{k - 2:04d}") if k % 5 == 0 and k > 1 else (),
            priority=None,
        )
        for k in range(600)
    ]
    report = select(score(tickets, ROSTER), QueueFilter())
    assert render.queue_json(report) == reference_json(report)


@settings(max_examples=300, deadline=None)
@given(st.lists(hostile, max_size=8))
def test_escaped_is_the_inside_of_the_json_literal(values: list[str]) -> None:
    assert render._escaped(values) == [json.dumps(safe(v, single_line=False))[1:-1] for v in values]


def test_factor_objects_tell_negative_zero_apart() -> None:
    values = np.array([0.0, -0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=np.float64)
    texts = render._factor_objects("urgency", 0.25, values, values * 25.0)
    assert [json.loads("{" + x + "}")["urgency"]["value"] for x in texts] == values.tolist()
    assert texts[1] == '"urgency": {"value": -0.0, "weight": 0.25, "contribution": -0.0}'


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[bool]]:
    n = draw(st.integers(1, 9))
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    return n, draw(st.lists(edge, max_size=20)), draw(st.lists(st.booleans(), min_size=n, max_size=n))


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_blocker_spans_are_the_open_dependencies(case: tuple[int, list[tuple[int, int]], list[bool]]) -> None:
    n, edges, closed = case
    ids = [f"T-{k}" for k in range(n)]
    deps: list[list[str]] = [[] for _ in range(n)]
    for u, v in edges:
        deps[v].append(ids[u])
    g = build_graph(["p"] * n, ids, [tuple(d) for d in deps], [()] * n, np.array(closed, dtype=bool))
    rows = list(range(n))[::-1]
    prerequisites, first, last = g.blocker_spans(rows)
    spans = [prerequisites[a:b].tolist() for a, b in zip(first.tolist(), last.tolist(), strict=True)]
    assert spans == [g.open_dependencies(k) for k in rows]
    assert g.blockers(rows) == spans


def test_case_insensitive_fallback_folds_like_casefold() -> None:
    ids = ["STRASSE-1", "Nul\x00Id", "ΣΊΣΥΦΟΣ", "X"]
    refs = ("straße-1", "nul\x00id", "σίσυφοσ", "missing")
    g = build_graph(["p"] * 4, ids, [(), (), (), refs], [(), (), (), ()], np.zeros(4, dtype=bool))
    assert g.open_dependencies(3) == [0, 1, 2]
    assert g.dangling == {3: ["missing"]}
