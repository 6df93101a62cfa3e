"""The priority engine on the real ticket corpus: explanations add up, graph problems show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taskdist.config import Config, Source
from taskdist.errors import NothingImported
from taskdist.explain import explain_row
from taskdist.importer import import_sources
from taskdist.ledger.db import open_ledger
from taskdist.queue import score_ledger
from tests.conftest import NOW, NOW_TEXT, run_cli

pytestmark = pytest.mark.slow


def _import_corpus(corpus: Path, db: Path) -> None:
    ledger = open_ledger(db, create=True)
    try:
        for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
            try:
                import_sources(ledger, [Source(path=str(folder), project=folder.name)], Config(), NOW)
            except NothingImported:
                continue  # a folder with no readable ticket (reported by the import itself)
    finally:
        ledger.close()


def _expected_problems(db: Path) -> tuple[dict[tuple[str, str], list[str]], set[tuple[str, str]]]:
    """Dangling references and cycle members worked out independently of taskdist.graph."""
    import sqlite3

    conn = sqlite3.connect(str(db))
    rows = conn.execute("SELECT project, id, depends_on, blocks FROM tickets").fetchall()
    conn.close()
    ids: dict[str, set[str]] = {}
    for project, ticket_id, _, _ in rows:
        ids.setdefault(project, set()).add(ticket_id)

    def find(project: str, ref: str) -> str | None:
        if ref in ids[project]:
            return ref
        same = [i for i in ids[project] if i.casefold() == ref.casefold()]
        return same[0] if len(same) == 1 else None

    dangling: dict[tuple[str, str], list[str]] = {}
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for project, ticket_id, depends_on, blocks in rows:
        for ref in json.loads(depends_on):
            target = find(project, ref)
            if target is None:
                dangling.setdefault((project, ticket_id), []).append(ref)
            else:
                edges.setdefault((project, target), set()).add((project, ticket_id))
        for ref in json.loads(blocks):
            target = find(project, ref)
            if target is None:
                dangling.setdefault((project, ticket_id), []).append(ref)
            else:
                edges.setdefault((project, ticket_id), set()).add((project, target))
    in_cycle = set()
    for start in edges:
        seen, stack = set(), [start]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        if start in seen:
            in_cycle.add(start)
    return dangling, in_cycle


def test_corpus_explanations_add_up_and_graph_problems_show(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    _import_corpus(corpus, db)
    config = Config()
    ledger = open_ledger(db)
    try:
        scores = score_ledger(ledger, config, NOW)
    finally:
        ledger.close()
    assert len(scores) > 800
    for k in range(len(scores)):
        explanation = explain_row(scores, k, config)
        total = sum(line.contribution for line in explanation.factors)
        assert abs(total - explanation.composite) <= 1e-9, (scores.tickets.key(k), total, explanation.composite)
        assert all(0.0 <= line.value <= 1.0 for line in explanation.factors)

    result = run_cli("queue", "--db", str(db), "--now", NOW_TEXT, "--format", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == int(scores.queued.sum())
    dangling, in_cycle = _expected_problems(db)
    flagged_dangling = 0
    for record in records:
        key = (record["project"], record["id"])
        assert record["dangling"] == dangling.get(key, [])
        assert ("dangling" in record["flags"]) == (key in dangling)
        assert ("cycle" in record["flags"]) == (key in in_cycle)
        assert sum(f["contribution"] for f in record["factors"].values()) == pytest.approx(record["priority"], abs=1e-9)
        flagged_dangling += bool(record["dangling"])
    assert flagged_dangling >= 10  # the corpus is known for references to ids with no file

    table = run_cli("queue", "--db", str(db), "--now", NOW_TEXT, env={"COLUMNS": "80"})
    assert table.exit_code == 0 and "dangling reference(s)" in table.stdout
