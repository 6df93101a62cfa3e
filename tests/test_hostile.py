"""Hostile and broken files: each is refused or read with a reason, and the rest of its folder imports.

The cases live in tests/hostile_files.py (alias and merge-key bombs, 50 MB and sparse 10 GB files,
10,000-level nesting in flow, block and indented style, binary, Latin-1, BOM, CRLF, empty, unclosed,
`!!python/object` tags, 100,000 dependencies, ids differing in case, odd names, symbolic-link loops,
named pipes, no read permission, impossible dates and numbers, inputs that once made our own regular
expressions quadratic). Time and memory are bounded by `limits` in taskdist.yaml; they are measured by
hand (`/usr/bin/time -v`), never asserted here.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from taskdist.config import Config, LimitsConfig, Source
from taskdist.errors import ParseError
from taskdist.importer import ImportReport, import_sources
from taskdist.ledger.db import open_ledger
from taskdist.tickets.discover import read_file
from taskdist.tickets.frontmatter import load_yaml
from tests.conftest import NOW, NOW_TEXT, run_cli
from tests.hostile_files import CASES, Case, alias_bomb, merge_bomb, ticket, write_good, write_hostile

GOOD = 3


def do_import(db: Path, root: Path, config: Config | None = None) -> ImportReport:
    ledger = open_ledger(db, create=True)
    try:
        return import_sources(ledger, [Source(path=str(root), project="p")], config or Config(), NOW)
    finally:
        ledger.close()


def ticket_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM tickets")}
    finally:
        conn.close()


def entries(report: dict[str, Any], base: Path) -> dict[Path, list[tuple[str, str]]]:
    """Every error and warning of a report by absolute path: (kind, reason lower-cased)."""
    found: dict[Path, list[tuple[str, str]]] = {}
    for kind in ("errors", "warnings"):
        for item in report[kind]:
            path = Path(os.path.normpath(os.path.join(base, item["path"])))
            found.setdefault(path, []).append((kind[:-1], item["reason"].lower()))
    return found


def check_case(case: Case, found: dict[Path, list[tuple[str, str]]]) -> None:
    for path in case.paths:
        reported = found.get(path, [])
        if case.verdict == "good":
            assert reported == [], f"{case.name}: {path.name} should import cleanly, got {reported}"
            continue
        assert len(reported) == 1, f"{case.name}: one reasoned {case.verdict} for {path.name}, got {reported}"
        kind, reason = reported[0]
        assert kind == case.verdict, f"{case.name}: {path.name} reported as {kind}: {reason}"
        assert case.reason in reason, f"{case.name}: {reason!r} does not say {case.reason!r}"


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_file_is_reported_and_the_rest_of_the_folder_imports(tmp_path: Path, name: str) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    case = CASES[name](root)
    good = write_good(root / "good", GOOD)
    report = do_import(db, root)
    check_case(case, entries(report.as_dict(), root))
    assert ticket_ids(db) == {*good, *case.ticket_ids}
    assert report.tickets == GOOD + len(case.ticket_ids)
    # Reading it again changes nothing and reports the same.
    again = do_import(db, root)
    assert (again.imported, again.updated) == (0, 0)
    check_case(case, entries(again.as_dict(), root))


def test_everything_hostile_beside_100_good_tickets_through_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    cases = write_hostile(folder)
    good = write_good(folder / "good", 100)
    db = str(tmp_path / "ledger.db")
    result = run_cli("import", str(folder), "--db", db, "--now", NOW_TEXT, "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    found = entries(report, tmp_path)
    for case in cases:
        check_case(case, found)
    expected_reports = sum(len(c.paths) for c in cases if c.verdict != "good")
    assert len(report["errors"]) + len(report["warnings"]) == expected_reports
    hostile_ids = {i for c in cases for i in c.ticket_ids}
    assert ticket_ids(Path(db)) == set(good) | hostile_ids
    assert report["tickets"] == 100 + len(hostile_ids)
    assert not (tmp_path / "taskdist-was-pwned").exists()

    # The byte-order-mark and CRLF files are ordinary tickets, read exactly.
    for ticket_id, title in (("BOM-1", "byte order mark"), ("CRLF-1", "windows line ends")):
        shown = run_cli("show", ticket_id, "--db", db, "--now", NOW_TEXT, "--format", "json", cwd=tmp_path)
        details = json.loads(shown.stdout)
        assert (details["id"], details["title"], details["status"], details["priority"]) == (
            ticket_id,
            title,
            "open",
            "high",
        )
        assert details["frontmatter"] == {"id": ticket_id, "title": title, "status": "open", "priority": "high"}
        assert details["body"] == f"\n# {title}\n\nBody text.\n"
    listed = json.loads(run_cli("tickets", "--db", db, "--now", NOW_TEXT, "--format", "json", cwd=tmp_path).stdout)
    titles = {t["id"]: t["title"] for t in listed}
    assert titles["LAT-1"] == "Café crème" and titles["UNI-1"] == "non-ASCII path"
    assert {titles["CASE-1"], titles["case-1"]} == {"upper case id", "lower case id"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file whatever its permission bits (chmod 000 is moot)")
def test_a_file_without_read_permission_is_reported(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    locked = root / "LOCK-1.md"
    locked.parent.mkdir()
    locked.write_text(ticket("LOCK-1"), encoding="utf-8")
    locked.chmod(0)
    assert not os.access(locked, os.R_OK)
    write_good(root, 2)
    report = do_import(db, root)
    assert [(e["path"], "permission denied" in e["reason"]) for e in report.errors] == [(str(locked), True)]
    assert ticket_ids(db) == {"GOOD-0", "GOOD-1"}


def test_limits_come_from_taskdist_yaml(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write_good(root, 2)
    (root / "GOOD-1.md").write_text(ticket("GOOD-1", body="x" * 2000), encoding="utf-8")
    (tmp_path / "taskdist.yaml").write_text("limits:\n  max_file_bytes: 1000\n", encoding="utf-8")
    result = run_cli("import", str(root), "--db", str(tmp_path / "l.db"), "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(Path(e["path"]).name, e["reason"]) for e in report["errors"]] == [
        ("GOOD-1.md", "file is larger than 1000 bytes (limits.max_file_bytes): not read")
    ]
    (tmp_path / "taskdist.yaml").write_text("limits:\n  max_file_bytes: many\n", encoding="utf-8")
    bad = run_cli("import", str(root), "--db", str(tmp_path / "l.db"), cwd=tmp_path)
    assert bad.exit_code == 78 and "limits.max_file_bytes must be a number" in bad.stderr


def test_each_yaml_limit_refuses_with_its_name() -> None:
    tight = LimitsConfig(max_frontmatter_bytes=50, max_yaml_nodes=10, max_yaml_depth=3, max_aliases=2)
    cases = {
        "limits.max_frontmatter_bytes": "x: " + "y" * 60,
        "limits.max_yaml_nodes": "x: [1, 2, 3, 4, 5, 6, 7, 8]",  # 11 values: the mapping, x, the list, 8 items
        "limits.max_yaml_depth": "x: [[[1]]]",
        "limits.max_aliases": "a: &a 1\nb: [*a, *a, *a]",
    }
    for limit, text in cases.items():
        with pytest.raises(ParseError, match=limit.replace(".", r"\.")):
            load_yaml(text, tight)
    assert load_yaml("a: &a 1\nb: [*a, *a]", tight) == {"a": 1, "b": [1, 1]}
    assert load_yaml("x: [1, 2, 3, 4, 5, 6, 7]", tight) == {"x": [1, 2, 3, 4, 5, 6, 7]}
    assert load_yaml("x: [[1]]", tight) == {"x": [[1]]}


def test_bombs_are_refused_before_anything_is_built() -> None:
    # Refused by the walk over the composed document: the constructor never copies a merge entry.
    for text in (alias_bomb(levels=12), merge_bomb(levels=60)):
        with pytest.raises(ParseError, match=r"limits\.max_yaml_nodes"):
            load_yaml(text.split("---\n")[1], LimitsConfig())
    small = "base: &b {a: 1, b: 2}\nx: {<<: *b, c: 3}\ny: [*b, *b]\n"
    assert load_yaml(small, LimitsConfig()) == {
        "base": {"a": 1, "b": 2},
        "x": {"a": 1, "b": 2, "c": 3},
        "y": [{"a": 1, "b": 2}, {"a": 1, "b": 2}],
    }


def test_a_depth_limit_raised_past_what_the_parser_survives_still_refuses(tmp_path: Path) -> None:
    # libyaml's composer crashes the process (SIGSEGV) past about 20,000 levels: never hand it that.
    deep = "x:\n  " + "- " * 450_000 + "leaf\n"
    with pytest.raises(ParseError, match="parser's own bound"):
        load_yaml(deep, LimitsConfig(max_yaml_depth=10_000_000, max_yaml_nodes=10_000_000))
    flow = "x: " + "[" * 30_000 + "]" * 30_000
    with pytest.raises(ParseError, match="parser's own bound"):
        load_yaml(flow, LimitsConfig(max_yaml_depth=10_000_000, max_yaml_nodes=10_000_000))
    # Brackets inside quotes are not nesting: a cheap over-estimate is checked exactly, not refused.
    quoted = "x: '" + "[" * 5_000 + "'\n"
    assert load_yaml(quoted, LimitsConfig()) == {"x": "[" * 5_000}


def test_read_file_reads_at_most_one_byte_over_the_limit(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.md"
    with open(sparse, "wb") as handle:
        handle.truncate(10 * 1024**3)
    with pytest.raises(ParseError, match=r"larger than 100 bytes \(limits.max_file_bytes\)"):
        read_file(str(sparse), LimitsConfig(max_file_bytes=100))
    exact = tmp_path / "exact.md"
    exact.write_bytes(b"x" * 100)
    assert read_file(str(exact), LimitsConfig(max_file_bytes=100)) == (b"x" * 100, exact.stat().st_mtime_ns)


def test_a_named_pipe_swapped_in_after_discovery_does_not_hang(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.md"
    os.mkfifo(pipe)
    with pytest.raises(ParseError, match=r"not a regular file \(a named pipe\)"):
        read_file(str(pipe), LimitsConfig())
