"""Fuzzing the ticket readers: arbitrary text and arbitrary YAML values never raise anything but ParseError.

The frontmatter reader gets arbitrary text (and text built from YAML's own punctuation, where the
parser's corners are); every normaliser gets arbitrary YAML-shaped values (huge integers, NaN,
infinities, dates, bytes, nested collections); `read_ticket` gets whole files built from both.
A crash found here was fixed at its root, and the shape that found it is pinned as an example.
`FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py` searches harder than the default run does.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from taskdist import timestamps
from taskdist.config import Config, EffortConfig, LimitsConfig
from taskdist.errors import ParseError, TaskdistError
from taskdist.models import Priority, Status
from taskdist.tickets import normalize as nz
from taskdist.tickets.discover import decode_text
from taskdist.tickets.frontmatter import load_yaml, quote_at_values, raw_scalar, read_frontmatter, split, to_json_safe
from taskdist.tickets.reader import read_ticket

LIMITS = LimitsConfig()
EFFORT = EffortConfig()
CONFIG = Config()
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Characters that mean something to YAML or to our own patterns, to reach the parser's corners.
YAML_ALPHABET = st.sampled_from(
    [
        *"-:#[]{},&*!|>'\"%@`?~ \t\n\r",
        *("---", "...", "<<", "!!", "0x", "1e9", "@", "\ufeff", "\x85", "é"),
        *"abcXYZ0123456789_.",
    ]
)
yamlish_text = st.lists(YAML_ALPHABET, max_size=80).map("".join)
any_text = st.one_of(st.text(max_size=200), yamlish_text)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),  # past float range and past 4300 digits' neighbours
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-23, minutes=59)), timezone(timedelta(0))])),
    st.binary(max_size=20),
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers(), st.none()), inner, max_size=5),
    ),
    max_leaves=20,
)


def _only_parse_errors(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except ParseError:
        return None


# ---- the frontmatter reader -------------------------------------------------------------------


@FUZZ
@given(st.one_of(any_text, yamlish_text.map(lambda t: f"---\n{t}\n---\nbody")))
@example("---\nx: 2024-13-45\n---\n")  # an impossible date: ValueError from the constructor
@example("---\nx: " + "9" * 5000 + "\n---\n")  # past Python's int-from-text limit
@example("---\nx: !!int abc\ny: !!bool maybe\nz: !!timestamp soon\n---\n")
@example("---\nx: &a [1, *a]\n---\n")  # a recursive structure
@example("---\nx: &a {<<: *a}\n---\n")
@example("---\n- - - - - x\n---\n")
@example("---\n? [a]\n: b\n---\n")  # an unhashable key
@example("---\n'a': 1\n1: 2\n~: 3\n2024-01-01: 4\n---\n")
def test_read_frontmatter_raises_only_parse_error(text: str) -> None:
    try:
        result = read_frontmatter(text, LIMITS)
    except ParseError as exc:
        assert exc.reason
        return
    if result is not None:
        assert isinstance(result.data, dict)
        assert all(isinstance(k, str) for k in result.data)
        to_json_safe(result.data)


@FUZZ
@given(any_text)
def test_split_raises_only_parse_error_and_keeps_the_body(text: str) -> None:
    parts = _only_parse_errors(split, text)
    if parts is not None:
        _, body, line = parts
        assert line >= 2
        assert text.endswith(body)


@FUZZ
@given(yamlish_text)
@example("a: @x  # c\nb: [@y , @z]\n- @w")
def test_quote_at_values_never_raises_and_only_adds_quotes(text: str) -> None:
    repaired, lines = quote_at_values(text)
    assert repaired.count("\n") == text.count("\n")
    assert all(1 <= n <= text.count("\n") + 1 for n in lines)
    # Quoting only adds quote marks and escapes; every other character is kept, in order.
    stripped = repaired.replace('\\"', "").replace("\\\\", "\\").replace('"', "")
    assert len(stripped) <= len(text)


@FUZZ
@given(yamlish_text, st.sampled_from(["id", "task_id", "-", "a.b"]))
def test_raw_scalar_never_raises(text: str, key: str) -> None:
    value = raw_scalar(text, key)
    assert value is None or "\n" not in value


@FUZZ
@given(yaml_values)
def test_yaml_values_survive_a_round_trip_through_load_yaml(value: Any) -> None:
    try:
        text = yaml.safe_dump({"v": value}, allow_unicode=True)
    except yaml.YAMLError:
        return
    loaded = _only_parse_errors(load_yaml, text, LIMITS)
    if loaded is not None:
        to_json_safe(loaded)


# ---- every normaliser on arbitrary YAML values --------------------------------------------------


@FUZZ
@given(yaml_values)
@example(10**5000)
@example(float("nan"))
@example(-(10**400))
@example("`" * 50)
def test_normalizers_never_raise(value: Any) -> None:
    status = nz.normalize_status(value)
    assert status is None or isinstance(status, Status)
    priority = nz.normalize_priority(value)
    assert priority is None or isinstance(priority, Priority)
    moment = nz.normalize_datetime(value)
    if moment is not None:
        assert moment.tzinfo is not None
        stored = timestamps.format_datetime(moment)
        assert timestamps.parse_stored_datetime(stored) is not None
    for hours in (nz.duration_hours(value, EFFORT), nz.normalize_hours(value, EFFORT)):
        assert hours is None or (math.isfinite(hours) and hours >= 0)
    ticket_id = nz.normalize_id(value)
    assert ticket_id is None or (0 < len(ticket_id) <= 200)
    refs = nz.normalize_refs(value, 50)
    assert len(refs) <= 50 and all(isinstance(r, str) and r for r in refs)
    assignee = nz.normalize_assignee(value)
    assert assignee is None or (isinstance(assignee, str) and len(assignee) <= 200)
    percentage = nz.normalize_percentage(value)
    assert percentage is None or 0 <= percentage <= 100
    money = nz.normalize_money(value)
    assert money is None or (math.isfinite(money) and money >= 0)
    text = nz.normalize_text(value)
    assert len(text) <= 500 and "\n" not in text
    effort = nz.normalize_effort({"estimated_hours": value, "time_estimate": value, "estimate": value}, EFFORT)
    assert math.isfinite(effort.hours) and effort.hours >= 0
    effort = nz.normalize_effort({"story_points": value, "estimated_tokens": value}, EFFORT)
    assert math.isfinite(effort.hours) and effort.hours >= 0
    json_safe = to_json_safe(value)
    assert json_safe is None or isinstance(json_safe, (str, int, float, bool, list, dict))


@FUZZ
@given(any_text)
@example("`" * 3000)  # an unclosed fence of many backticks
@example("```\n- [x] a\n```\n- [ ] b")
def test_count_checkboxes_never_raises(body: str) -> None:
    done, total = nz.count_checkboxes(body)
    assert 0 <= done <= total


@FUZZ
@given(st.binary(max_size=300))
@example(b"\xff\xfe---\x00")  # a UTF-16 byte order mark on bytes that are not UTF-16
@example(b"---\nid: A-1\ntitle: caf\xe9 \x9d\n---\n")
def test_any_bytes_decode_or_are_refused_then_read_or_refused(data: bytes) -> None:
    try:
        text, warnings = decode_text(data)
        read_ticket(text, "tasks/TSK-1.md", "p", "/abs/tasks/TSK-1.md", CONFIG)
    except ParseError:
        return
    assert all(isinstance(w, str) for w in warnings)


@FUZZ
@given(st.binary(max_size=200), st.booleans())
@example(b"ab\ncd\xff", True)
def test_utf8_reads_as_the_utf8_sig_codec_and_names_the_first_bad_byte(data: bytes, bom: bool) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + data.replace(b"\x00", b"")
    assume(not data.startswith((b"\xff\xfe", b"\xfe\xff")))
    text, warnings = decode_text(data)
    try:
        expected = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("utf-8")  # a BOM is valid UTF-8 itself: this failure's offset counts from the file's start
        except UnicodeDecodeError as exc:
            start = exc.start
        line = data.count(b"\n", 0, start) + 1
        where = f"not valid UTF-8 (byte 0x{data[start]:02x} on line {line})"
        assert len(warnings) == 1 and warnings[0].startswith(where + ": read as "), (warnings, where)
    else:
        assert (text, warnings) == (expected, [])


# ---- whole files through read_ticket --------------------------------------------------------------

FIELDS = [
    "id",
    "task_id",
    "issue_id",
    "epic_id",
    "title",
    "status",
    "state",
    "priority",
    "severity",
    "assignee",
    "assignees",
    "owner",
    "created_date",
    "updated",
    "due_date",
    "deadline",
    "estimated_hours",
    "time_estimate",
    "estimate",
    "story_points",
    "estimated_tokens",
    "actual_hours",
    "dependencies",
    "depends_on",
    "blocks",
    "parent",
    "epic",
    "subtasks",
    "tags",
    "labels",
    "skills",
    "required_skills",
    "completion_percentage",
    "metadata",
    "business",
    "revenue_potential",
    "client_tier",
    "content",
    "type",
    "file_path",
]
frontmatters = st.dictionaries(st.sampled_from(FIELDS), yaml_values, max_size=12)


@FUZZ
@given(frontmatters, any_text, st.sampled_from(["tasks/TSK-1.md", "x.md", ".claude/epics/e/3.md", "trackdown/a.md"]))
def test_read_ticket_on_arbitrary_yaml_values(data: dict[str, Any], body: str, rel_path: str) -> None:
    data.setdefault("id", "TSK-1")
    if isinstance(data.get("metadata"), list):
        data["metadata"] = {"status": data["metadata"]}
    try:
        front = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        result = read_ticket(f"---\n{front}---\n{body}", rel_path, "p", "/abs/" + rel_path, CONFIG)
    except ParseError:
        return
    ticket = result.ticket
    assert ticket is not None and ticket.id
    assert math.isfinite(ticket.estimate_hours) and ticket.estimate_hours >= 0


@FUZZ
@given(st.one_of(any_text, yamlish_text.map(lambda t: f"---\nid: A-1\n{t}\n---\n# T\n")))
def test_read_ticket_on_arbitrary_text(text: str) -> None:
    try:
        read_ticket(text, "tasks/TSK-1-x.md", "p", "/abs/tasks/TSK-1-x.md", CONFIG)
    except TaskdistError as exc:
        assert isinstance(exc, ParseError)


def test_dates_the_constructor_cannot_build_stay_text() -> None:
    result = read_frontmatter("---\ndue: 2024-13-45\nok: 2024-01-02\n---\n", LIMITS)
    assert result is not None
    assert result.data == {"due": "2024-13-45", "ok": date(2024, 1, 2)}
    assert nz.normalize_datetime(result.data["due"]) is None
    assert nz.normalize_datetime(result.data["ok"]) == datetime(2024, 1, 2, tzinfo=UTC)


def test_numbers_too_long_to_convert_stay_text() -> None:
    digits = "9" * 5000
    result = read_frontmatter(f"---\nn: {digits}\nm: 1{':1' * 5000}\nsmall: 12\n---\n", LIMITS)
    assert result is not None
    assert result.data["n"] == digits and result.data["small"] == 12
    assert isinstance(result.data["m"], str)
    assert nz.normalize_priority(10**5000) is Priority.CRITICAL
    assert nz.duration_hours(10**5000, EFFORT) is None
