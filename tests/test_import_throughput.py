"""The fast paths of a big import give exactly what the plain paths give.

Two shortcuts make a cold import of many files fast: the plain-YAML reader (frontmatter made of plain
`key: value` lines is read without PyYAML's composer and constructor) and the parallel read (two
worker processes, rows built in the workers, new tickets written while the rest is still parsed).
These tests pin that neither changes a single value: the plain reader against PyYAML on generated
and real frontmatter, the stored JSON against `json.dumps`, and a parallel import against a serial
one, row for row.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from taskdist import importer
from taskdist.config import Config, LimitsConfig, Source
from taskdist.errors import ParseError
from taskdist.json_quote import quote_ascii
from taskdist.ledger.db import open_ledger
from taskdist.ledger.tickets import FileState, _dumps
from taskdist.tickets.frontmatter import _OPEN_FENCE, _Loader, load_yaml, split
from taskdist.tickets.plainyaml import PlainReader
from taskdist.timestamps import format_datetime
from tests.conftest import NOW
from tests.ledger_tools import dump

READER = PlainReader(_Loader)

# Keys and values chosen for YAML's corners: words that resolve to booleans and nulls, YAML 1.1
# numbers (`012`, `1:30`, `1_000`), dates valid and not, indicators, quotes, comments, odd spaces.
KEYS = ["id", "title", "status", "tags", "metadata", "key-name", "k_1", "_x", "yes", "No", "on", "null", "y", "TRUE"]
ATOMS = [
    "x", "a b", "TSK-12", "open", "12", "012", "0o17", "0x1F", "1_000", "1:30", "190:20:30", "-5", "+5", ".5",
    "1e3", "1.5e3", "-.inf", ".NaN", "~", "null", "Null", "yes", "No", "on", "y", "true", "2024-01-01",
    "2024-13-45", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "2024-01-01t10:00:00.5+02:00", "-", "--", "---",
    "-x", "?", "?x", ":x", ":", "a:b", "a: b", "a #b", "a#b", "#c", "%x", "@x", "x@y", "`x", "!x", "&a", "*a", "|",
    ">", "a, b", "[a]", "{a: 1}", "'q'", "''", "'it''s'", "'a' b", '"q"', '""', '"a\\nb"', "\"a'b\"", "a'b", 'a"b',
    "é", "✅ done", "\x07", "\x85", "\u2028", "\ufeff", "\xa0x", "a  b", "a\tb", "x ", "<<", "=", "a]", "ab:", "0",
]  # fmt: skip
SAFE_KEYS = ["id", "title", "status", "tags"]
SAFE_ATOMS = ["x", "a b", "TSK-12", "2024-01-01", "open", "1.5"]


@st.composite
def frontmatter_texts(draw: st.DrawFn) -> str:
    """Mostly plain frontmatter with a few corners mixed in, so both paths of the reader are taken."""
    keys = SAFE_KEYS + draw(st.lists(st.sampled_from(KEYS), max_size=2))
    atoms = SAFE_ATOMS + draw(st.lists(st.sampled_from(ATOMS), max_size=3))

    def value() -> str:
        kind = draw(st.integers(0, 9))
        if kind < 6:
            return draw(st.sampled_from(atoms))
        if kind < 9:
            items = draw(st.lists(st.sampled_from(atoms), max_size=4))
            closing = draw(st.sampled_from(["]", "]", "]", " ]", ",]", "] x"]))
            return "[" + draw(st.sampled_from([", ", ",", " , "])).join(items) + closing
        return ""

    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(keys))
        shape = draw(st.integers(0, 19))
        if shape < 13:
            colon = draw(st.sampled_from([": "] * 6 + [":", ":  ", " : ", ":\t"]))
            tail = draw(st.sampled_from([""] * 6 + ["  ", " # c", "#c"]))
            lines.append(f"{key}{colon}{value()}{tail}")
        elif shape < 18:
            lines.append(f"{key}:")
            indent = " " * draw(st.sampled_from([2, 2, 2, 1, 4]))
            items = draw(st.booleans())
            for _ in range(draw(st.integers(1, 3))):
                lead = indent if draw(st.integers(0, 9)) else " " * draw(st.sampled_from([0, 1, 3, 6]))
                inner = f"- {value()}" if items else f"{draw(st.sampled_from(keys))}: {value()}"
                lines.append(lead + inner)
                if not draw(st.integers(0, 9)):
                    lines.append(draw(st.sampled_from(["", "  # note", "#c"])))
        else:
            lines.append(draw(st.sampled_from(["", "# c", "---", "...", "%YAML 1.1", " x: 1", "- a", "a: b\r\nc: d"])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def _typed(value: Any) -> Any:
    """A value with its types spelled out: `1`, `1.0` and `True` compare equal in Python."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def _pyyaml(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def assert_same_as_pyyaml(text: str) -> bool:
    """The plain reader declines `text` or reads exactly what PyYAML reads; True when it read it."""
    plain = READER.read(text, 10_000)
    if plain is None:
        return False
    try:
        expected = _pyyaml(text)
    except yaml.YAMLError as exc:
        raise AssertionError(f"the plain reader read {text!r}, which PyYAML refuses ({exc})") from exc
    assert _typed(plain) == _typed(expected), text
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frontmatter_texts())
@example("a: 012\nb: 1:30\nc: [1_000, yes, ~]\nd: 2024-01-01\ne: 2024-13-45")
@example("a: -5\nb: ?x\nc: :x\nd: [-x]\ne: 'it''s'\nf: \"q\"\ng:\n  h: [x, y]\n  i: 2024-01-01")
@example("a:\n    b: 1\n  cc: 2")  # a misaligned line: PyYAML's to judge
@example("a: x\n  b: y")  # a continuation line
@example("yes: 1")  # a key that is not text
def test_plain_reader_reads_what_pyyaml_reads(text: str) -> None:
    assert_same_as_pyyaml(text)


def test_plain_reader_takes_blank_and_comment_lines() -> None:
    """Blank lines and whole-line comments, at the top level or inside a block, keep a document plain."""
    for text in (
        "a:\n  - x\n\n  # c\n  - y\nb: 1\n",  # inside a block
        "# heading comment\na: 1\n\n   \n  # indented\nb: [x]\n",  # outside one
        "a:\n# a top-level comment inside the block\n  - x\n",
    ):
        assert assert_same_as_pyyaml(text), text
    assert READER.read("a: x\n  b: y", 100) is None  # an indented line outside a block
    assert READER.read("- a\n", 100) is None  # a line of another shape: the document is declined
    assert READER.read("a: \x85x\nb: \x85x", 100) is None  # not printable, remembered or not


# The closing fence as a line-start (`^`) pattern, which `split` finds by the newline before it.
_LINE_START_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["---", "...", "\n", "\r\n", "a: 1", " ", "\t", "--", "----", "x---"]), max_size=12))
@example(["---", "\n", "---", "\n"])  # an empty frontmatter
@example(["---", "\n", "a: 1", "\n", "...", "\r\n", "body"])
def test_split_finds_the_fence_a_line_start_pattern_finds(parts: list[str]) -> None:
    text = "".join(parts)
    opening = _OPEN_FENCE.match(text)
    closing = _LINE_START_FENCE.search(text, opening.end()) if opening else None
    if opening is None:
        assert split(text) is None
    elif closing is None:
        with pytest.raises(ParseError):
            split(text)
    else:
        parts_found = split(text)
        assert parts_found is not None
        assert parts_found[0] == text[opening.end() : closing.start()]
        assert parts_found[2] == text.count("\n", 0, closing.end()) + 2


@st.composite
def iso_stamps(draw: st.DrawFn) -> str:
    """Dates and timestamps in the canonical forms the reader builds itself, valid or not (month 13,
    day 31 of a short month, hour 24), with a few near misses that must go through PyYAML."""
    digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
    text = f"{draw(st.integers(0, 9999)):04d}-{draw(st.integers(0, 19)):02d}-{draw(st.integers(0, 39)):02d}"
    if draw(st.booleans()):
        text += f"{draw(st.sampled_from('TTTt '))}{draw(st.integers(0, 25)):02d}:{draw(digits)}:{draw(digits)}"
        if draw(st.booleans()):
            text += "." + draw(st.text("0123456789", min_size=0, max_size=8))
        zone = draw(st.integers(0, 3))
        if zone == 1:
            text += draw(st.sampled_from(["Z", "z", " Z"]))
        elif zone >= 2:
            text += f"{draw(st.sampled_from('+-'))}{draw(st.integers(0, 25)):02d}:{draw(digits)}"
    return text


@settings(max_examples=400, deadline=None)
@given(iso_stamps())
@example("2026-11-09T01:58:21.000Z")
@example("2024-02-30")
@example("2026-11-09T01:58:21.1234567+05:30")
def test_plain_reader_builds_dates_as_pyyaml_does(stamp: str) -> None:
    assert assert_same_as_pyyaml(f"due: {stamp}\nother: {stamp}\n")  # read, and read as PyYAML reads it
    assert_same_as_pyyaml(f"in_list: [{stamp}]\n")  # a time in a flow list is PyYAML's to read


@pytest.mark.parametrize("digits", ["0", "7", "00", "007", "10", "28000", "9" * 18, "1" * 19, "9" * 101, "١٢"])
def test_plain_reader_builds_integers_as_pyyaml_does(digits: str) -> None:
    assert assert_same_as_pyyaml(f"n: {digits}\nm: [{digits}]\n")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES)
@example({"b": [1.5, float("nan"), float("-inf")], "a": {"é": "\u2028\x00"}})
def test_stored_json_is_what_json_dumps_gives(value: Any) -> None:
    assert _dumps(value) == json.dumps(value, sort_keys=True, ensure_ascii=False)


@given(st.text())
@example('é\ud800"\\\x00\u2028 back\\slash')
def test_quote_ascii_is_what_json_dumps_gives_for_text(text: str) -> None:
    assert quote_ascii(text) == json.dumps(text)


def test_plain_reader_takes_the_usual_frontmatter() -> None:
    """Dialect A and B frontmatter (what most tickets look like) must take the fast path."""
    dialect_a = (
        "task_id: TSK-0001\ntitle: Build the thing\nstatus: in_progress\npriority: high\nassignee: unassigned\n"
        "created_date: 2026-11-01T10:00:00.000Z\ntime_estimate: 4.5h\ntags: [python, backend]\n"
        "issue_id: ISS-0002\ndue_date: 2026-12-01\ndependencies: [TSK-0000]\n"
    )
    dialect_b = (
        "actual_hours: null\nassignees: []\ncreated_at: '2026-01-02T03:04:05.000006'\ndependencies: []\n"
        "due_date: ''\nestimated_hours: 3.5\nid: TSK-0002\nlabels: []\nmetadata:\n  type: task\n"
        "  client_tier: enterprise\nparent: ISS-0001\npriority: medium\nstatus: open\ntags: [design]\n"
        "title: A title with a 'quote', a comma and a:colon\nupdated_at: '2026-01-03T00:00:00.000000'\n"
    )
    assert assert_same_as_pyyaml(dialect_a)
    assert assert_same_as_pyyaml(dialect_b)


def test_plain_reader_remembers_values_without_sharing_them() -> None:
    # Recurring values are remembered across documents; a list comes out new every time, so a caller
    # that changes what it got cannot change the next document's value.
    reader = PlainReader(_Loader)
    first = reader.read("tags: [a, b]\nstatus: open\ndue: 2026-11-25\n", 100)
    assert first is not None
    first["tags"].append("changed")
    second = reader.read("tags: [a, b]\nstatus: open\ndue: 2026-11-25\n", 100)
    assert second == {"tags": ["a", "b"], "status": "open", "due": first["due"]}
    assert second["tags"] is not first["tags"]
    # A key that is not text is declined every time, remembered or not.
    assert reader.read("yes: 1\n", 100) is None and reader.read("yes: 1\n", 100) is None


def test_plain_reader_matches_pyyaml_on_the_real_corpus(corpus: Path) -> None:
    read = 0
    for path in sorted(corpus.rglob("*.md")):
        if not path.is_file():
            continue
        try:
            parts = split(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ParseError):
            continue
        if parts is not None:
            read += assert_same_as_pyyaml(parts[0])
    assert read >= 430  # every real frontmatter the reader took when it was written (of about 1,380)


def test_the_bounds_still_hold_for_plain_frontmatter() -> None:
    text = "tags: [" + ", ".join(f"t{n}" for n in range(50)) + "]\nmetadata:\n  a: [x, y]\n"
    with pytest.raises(ParseError, match=r"limits\.max_yaml_nodes"):
        load_yaml(text, LimitsConfig(max_yaml_nodes=40))
    with pytest.raises(ParseError, match=r"limits\.max_yaml_depth"):
        load_yaml(text, LimitsConfig(max_yaml_depth=2))
    assert load_yaml(text, LimitsConfig())["metadata"] == {"a": ["x", "y"]}


def _ticket(ticket_id: str, title: str, updated: str, extra: str = "") -> str:
    return (
        f"---\nid: {ticket_id}\ntitle: {title}\nstatus: open\nupdated: {updated}\ntags: [python]\n{extra}---\n"
        f"\n# {title}\n\n- [ ] one\n"
    )


def _folder(root: Path) -> None:
    """Tickets with every case the importer decides after reading: duplicates (the first file read
    losing to a later one, and an archived copy), a bad file, a warning, a case clash."""
    for n in range(40):
        (root / "tasks").mkdir(parents=True, exist_ok=True)
        (root / "tasks" / f"t{n:03d}.md").write_text(_ticket(f"TSK-{n}", f"Task {n}", "2026-01-01"), encoding="utf-8")
    # The same id in three files: the newest wins, whatever the order they are read in.
    (root / "a-first.md").write_text(_ticket("DUP-1", "old copy", "2026-01-01"), encoding="utf-8")
    (root / "tasks" / "zz-newer.md").write_text(_ticket("DUP-1", "new copy", "2026-03-01"), encoding="utf-8")
    (root / "archive").mkdir()
    (root / "archive" / "dup.md").write_text(_ticket("DUP-1", "archived", "2026-05-01"), encoding="utf-8")
    (root / "bad.md").write_text("---\nid: BAD-1\ntitle: [unclosed\n---\n", encoding="utf-8")
    (root / "odd.md").write_text(_ticket("ODD-1", "odd", "2026-01-01", "status_x: 1\n").replace(
        "status: open", "status: pondering"), encoding="utf-8")  # fmt: skip
    (root / "case.md").write_text(_ticket("tsk-1", "lower case", "2026-01-01"), encoding="utf-8")


def _import(db: Path, root: Path, when: Any, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> dict[str, Any]:
    # Parallel with tiny batches, so that batches, early writes and the walk interleave.
    monkeypatch.setattr(importer, "PARALLEL_THRESHOLD", 5 if parallel else 10**9)
    monkeypatch.setattr(importer, "_BATCH", 7)
    ledger = open_ledger(db, create=True)
    try:
        return importer.import_sources(ledger, [Source(path=str(root), project="p")], Config(), when).as_dict()
    finally:
        ledger.close()


def test_a_parallel_import_writes_what_a_serial_one_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tickets"
    _folder(root)
    serial_db, parallel_db = tmp_path / "serial.db", tmp_path / "parallel.db"
    switch_interval = sys.getswitchinterval()
    serial = _import(serial_db, root, NOW, monkeypatch, parallel=False)
    parallel = _import(parallel_db, root, NOW, monkeypatch, parallel=True)
    assert sys.getswitchinterval() == switch_interval  # shortened for the walk only
    assert parallel == serial
    assert serial["imported"] == 43 and len(serial["duplicates"]) == 1 and serial["errors"]
    assert dump(parallel_db) == dump(serial_db)
    # The first file read with DUP-1 was written at once; the newer file read later must replace it.
    assert _title(parallel_db, "DUP-1") == "new copy"

    # A second run with changes: an update, a deletion, a new duplicate that loses, a new winner.
    (root / "tasks" / "t001.md").write_text(_ticket("TSK-1", "Task 1 renamed", "2026-02-01"), encoding="utf-8")
    (root / "tasks" / "t002.md").unlink()
    (root / "b-copy.md").write_text(_ticket("TSK-3", "stale copy", "2025-01-01"), encoding="utf-8")
    (root / "c-new.md").write_text(_ticket("NEW-1", "new", "2026-01-01"), encoding="utf-8")
    (root / "d-new.md").write_text(_ticket("NEW-1", "newer", "2026-02-01"), encoding="utf-8")
    later = NOW + timedelta(days=1)
    serial = _import(serial_db, root, later, monkeypatch, parallel=False)
    parallel = _import(parallel_db, root, later, monkeypatch, parallel=True)
    assert parallel == serial
    assert (serial["imported"], serial["updated"], serial["missing"]) == (1, 1, 1)
    assert dump(parallel_db) == dump(serial_db)
    assert (_title(parallel_db, "NEW-1"), _title(parallel_db, "TSK-3")) == ("newer", "Task 3")


def _title(db: Path, ticket_id: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT title FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0])
    finally:
        conn.close()


def _reference_winner_key(state: FileState) -> tuple[int, str, str]:
    """The ranking as first written: one key, the update text inverted character by character."""
    updated = state.updated or ""
    inverted = "".join(chr(0x10FFFF - ord(c)) for c in updated) if updated else "\U0010ffff"
    return (int(state.demoted), inverted, state.path)


_STAMPS = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)).map(format_datetime))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a.md", "b.md", "x/c.md", "archive/a.md", "z.md"]), _STAMPS, st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_duplicate_ranking_equals_the_one_key_ranking(files: list[tuple[str, str | None, bool]]) -> None:
    # Winners decide which file's ticket is kept: the three-sort ranking must never differ from the key.
    states = [
        FileState(f"/{i}/{p}", "p", p, "ticket", "T-1", u, d, 1, 1, None, None, None, [])
        for i, (p, u, d) in enumerate(files)
    ]
    assert importer._ranked(states) == sorted(states, key=_reference_winner_key)
