"""Normalisers: each takes one raw frontmatter value (any YAML type) and returns a clean value.

They never raise anything but `ParseError`, and never guess silently: where a value cannot be read
they return "unknown" (None) and the caller records the raw value beside it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from taskdist.config import EffortConfig
from taskdist.models import Effort, Priority, Status

_Read = TypeVar("_Read")
_REMEMBERED = 4096  # distinct texts per normaliser, the most recently used


def _remember_text(read: Callable[[Any], _Read]) -> Callable[[Any], _Read]:
    """`read`, with its answers for text values remembered (only text: lists and dicts are not
    hashable, and `1`, `1.0` and `True` would share one answer).

    Statuses, priorities, assignees and referenced ids recur across thousands of files; each answer
    depends on the text alone and is immutable (an enum member, text or None), so it can be shared.
    """
    cached = functools.lru_cache(maxsize=_REMEMBERED)(read)

    @functools.wraps(read)
    def remembered(value: Any) -> _Read:
        return cached(value) if type(value) is str else read(value)

    return remembered


_STATUS_WORDS: dict[str, Status] = {}
for _status, _words in {
    Status.OPEN: "open new todo to_do pending backlog planning planned ready draft not_started "
    "proposed triage unstarted waiting ready_for_engineering ready_for_development icebox idea",
    Status.IN_PROGRESS: "in_progress inprogress active started doing wip working ongoing in_development "
    "implementing development",
    Status.REVIEW: "review in_review testing qa ready_for_review ready_for_qa ready_for_deployment "
    "needs_review code_review verify verification staging",
    Status.BLOCKED: "blocked on_hold onhold paused waiting_on stalled",
    Status.DONE: "done completed complete closed resolved archived merged finished shipped deployed fixed released",
    Status.CANCELLED: "cancelled canceled won_t_do wont_do won_t_fix wontfix rejected abandoned "
    "obsolete duplicate invalid dropped superseded",
}.items():
    for _word in _words.split():
        _STATUS_WORDS[_word] = _status


_PHRASES_LONGEST_FIRST = sorted((w for w in _STATUS_WORDS if "_" in w), key=len, reverse=True)


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def _word_key(text: str) -> str:
    """`In-Review`, `won't do`, `✅ Completed` -> `in_review`, `won_t_do`, `completed`."""
    cleaned = _NOT_WORD.sub("_", text.strip().lower())
    return cleaned.strip("_")


@_remember_text
def normalize_status(value: Any) -> Status | None:
    """Fold any of the status spellings seen in the wild into `Status`; None when unrecognised."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Status.DONE if value else Status.OPEN
    if not isinstance(value, str):
        return None
    key = _word_key(value)
    if not key:
        return None
    if key in _STATUS_WORDS:
        return _STATUS_WORDS[key]
    # "Completed (2025-07-03)", "done - merged": the first word decides; failing that, the longest
    # known phrase inside ("critical_bug_ready_for_development", "in_progress_60_complete").
    first = key.split("_", 1)[0]
    if first in _STATUS_WORDS:
        return _STATUS_WORDS[first]
    padded = f"_{key}_"
    for phrase in _PHRASES_LONGEST_FIRST:
        if f"_{phrase}_" in padded:
            return _STATUS_WORDS[phrase]
    return None


_PRIORITY_WORDS: dict[str, Priority] = {
    "low": Priority.LOW,
    "minor": Priority.LOW,
    "trivial": Priority.LOW,
    "p3": Priority.LOW,
    "p4": Priority.LOW,
    "lowest": Priority.LOW,
    "nice_to_have": Priority.LOW,
    "medium": Priority.MEDIUM,
    "normal": Priority.MEDIUM,
    "moderate": Priority.MEDIUM,
    "p2": Priority.MEDIUM,
    "med": Priority.MEDIUM,
    "default": Priority.MEDIUM,
    "high": Priority.HIGH,
    "major": Priority.HIGH,
    "important": Priority.HIGH,
    "p1": Priority.HIGH,
    "critical": Priority.CRITICAL,
    "urgent": Priority.CRITICAL,
    "blocker": Priority.CRITICAL,
    "highest": Priority.CRITICAL,
    "p0": Priority.CRITICAL,
    "emergency": Priority.CRITICAL,
}


@_remember_text
def normalize_priority(value: Any) -> Priority | None:
    """Priority from a label (any case), `P0`-`P4`, or an integer on a 1-10 scale (yoda); None if unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # Integers compare exactly at any size; only floats can be NaN or infinite.
        if isinstance(value, float) and not math.isfinite(value):
            return None
        # Integer priorities (yoda) run higher = more important on a 1..10 scale.
        if value >= 8:
            return Priority.CRITICAL
        if value >= 6:
            return Priority.HIGH
        if value >= 4:
            return Priority.MEDIUM
        return Priority.LOW
    if not isinstance(value, str):
        return None
    key = _word_key(value)
    if key in _PRIORITY_WORDS:
        return _PRIORITY_WORDS[key]
    first = key.split("_", 1)[0]
    return _PRIORITY_WORDS.get(first)


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_SPACE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d")
_PLACEHOLDER = re.compile(r"[YMDHhms]{2}")


def normalize_datetime(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime, or None for empty values, placeholders and garbage.

    Naive values are taken as UTC; a date alone is midnight UTC; `Z` and offsets are honoured.
    """
    if value is None or isinstance(value, bool):
        return None
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            # Most dates are written in a form `fromisoformat` reads as it is, which the cleaning of
            # `_from_text` leaves as it is or reads the same (1.5 us less a date). Not with a `#`:
            # `fromisoformat` takes any character between date and time, and a `#` starts a comment here.
            parsed = datetime.fromisoformat(value) if "#" not in value else _from_text(value)
        except ValueError:
            parsed = _from_text(value)
        if parsed is None:
            return None
    else:
        return None
    try:
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _from_text(value: str) -> datetime | None:
    """A datetime (naive or not) from text as people write it: quoted, commented, `Z`, a blank
    for the `T`; None for placeholders and garbage."""
    text = value.strip().strip("'\"")
    if "#" in text:
        text = text.split("#", 1)[0].strip()
    if not text or _PLACEHOLDER.search(text):
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = text.replace(" ", "T", 1) if _DATE_SPACE_TIME.match(text) else text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_DURATION = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(?P<high>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|points?|pts?|sp)?\b",
    re.IGNORECASE,
)


def duration_hours(value: Any, effort: EffortConfig) -> float | None:
    """Hours from `3h`, `30m`, `1d`, `2 weeks`, `1.5`, `2-3 days` (the upper end), `1h 30m`; None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _finite(value)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text:
        return None
    total = 0.0
    found = False
    for match in _DURATION.finditer(text):
        number = float(match.group("high") or match.group("num"))
        unit = (match.group("unit") or "h").lower()
        if unit.startswith("m") and not unit.startswith("mo"):
            number /= 60.0
        elif unit.startswith("d"):
            number *= effort.hours_per_day
        elif unit.startswith("w"):
            number *= effort.hours_per_week
        elif unit.startswith(("p", "s")):
            number *= effort.hours_per_point
        total += number
        found = True
    return total if found and math.isfinite(total) else None


def _finite(value: float) -> float | None:
    """A YAML number as a finite float of at least 0; None for NaN, infinities, negatives, integers past float range."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _finite(value)
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return number if math.isfinite(number) and number >= 0 else None
    return None


def normalize_effort(fields: dict[str, Any], effort: EffortConfig) -> Effort:
    """The estimate in hours from the first field that carries one, in order of precision."""
    hours = _number(fields.get("estimated_hours"))
    if hours is not None and hours > 0:
        return Effort(hours, "estimated_hours")
    for key in ("time_estimate", "estimate", "effort"):
        raw = fields.get(key)
        parsed = duration_hours(raw, effort)
        if parsed is not None and parsed > 0:
            # A bare number under `estimate` is story points in the early templates.
            if key == "estimate" and isinstance(raw, (int, float)):
                hours = _finite(parsed * effort.hours_per_point)
                if hours is not None:
                    return Effort(hours, "estimate (points)")
                continue
            return Effort(parsed, key)
    points = _number(_leading_number(fields.get("story_points")))
    hours = _finite(points * effort.hours_per_point) if points is not None else None
    if hours is not None and hours > 0:
        return Effort(hours, "story_points")
    tokens = _number(fields.get("estimated_tokens"))
    if tokens is not None and tokens > 0 and effort.tokens_per_hour > 0:
        return Effort(tokens / effort.tokens_per_hour, "estimated_tokens")
    return Effort(effort.default_hours, "default", assumed=True)


def _leading_number(value: Any) -> Any:
    """`8 (estimated)`, `5 points` -> `8`, `5` (bold-line files write such story points); others as given."""
    if isinstance(value, str):
        match = re.match(r"\s*(\d+(?:\.\d+)?)\b", value)
        if match:
            return match.group(1)
    return value


def normalize_hours(value: Any, effort: EffortConfig) -> float | None:
    """Actual hours (`actual_hours`, `time_spent`) in hours; None when absent or unreadable."""
    return duration_hours(value, effort)


_ID_TEXT = re.compile(r"^[\w.#/:+-]+$", re.UNICODE)


@_remember_text
def normalize_id(value: Any) -> str | None:
    """An id as text; None for empty, placeholder or structured values."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value.bit_length() > 600:
        return None  # no id has 180 digits; str() of a huge integer can even raise
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text.upper() in {"NULL", "NONE", "N/A", "TBD"}:
        return None
    if "{{" in text or "XXX" in text.upper() or not _ID_TEXT.match(text):
        return None
    return text[:200]


# An id starts a word (or follows another id's number: `TSK-1-TSK-2`): starting inside a run like
# `a-a-a-...` at every letter made a long relation string cost quadratic time.
_ID_IN_TEXT = re.compile(r"(?:(?<![A-Za-z0-9-])|(?<=\d-))[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z]+)*-\d+(?:\.\d+)*")


def normalize_refs(value: Any, limit: int = 10_000) -> list[str]:
    """Ticket ids from a relation field: a list, a comma-separated string, or one id (at most `limit`)."""
    items: list[Any]
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, dict):
        items = list(value.keys())
    else:
        items = [value]
    refs: dict[str, None] = {}  # ordered, and constant-time to dedupe (100,000 references are real input)
    for item in items:
        if isinstance(item, dict):
            item = item.get("id") or item.get("ticket") or item.get("task")
        if isinstance(item, str) and ("," in item or " " in item.strip()):
            # "ISS-0001, ISS-0002" or "TSK-0003: some words"
            found = _ID_IN_TEXT.findall(item)
            candidates: list[Any] = found if found else list(item.split(","))
        else:
            candidates = [item]
        for candidate in candidates:
            ref = normalize_id(candidate.strip() if isinstance(candidate, str) else candidate)
            if ref and ref not in refs:
                refs[ref] = None
                if len(refs) >= limit:
                    return list(refs)
    return list(refs)


_NO_ASSIGNEE = {"", "unassigned", "none", "null", "nobody", "n/a", "tbd", "-", "[]"}


@_remember_text
def normalize_assignee(value: Any) -> str | None:
    """The first assignee as text without a leading `@`; None for unassigned, empty and `[]`."""
    if isinstance(value, (list, tuple)):
        for item in value:
            person = normalize_assignee(item)
            if person:
                return person
        return None
    if isinstance(value, dict):
        return normalize_assignee(value.get("id") or value.get("name"))
    if value is None or isinstance(value, bool):
        return None
    text = _str(value).strip()
    if text.lower() in _NO_ASSIGNEE or "{{" in text:
        return None
    return text.lstrip("@").strip()[:200] or None


def normalize_percentage(value: Any) -> float | None:
    """A 0-100 completion figure from `80`, `80%`, `0.8` (a fraction), or None."""
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    number = _number(value)
    if number is None:
        return None
    if 0 < number <= 1 and isinstance(value, float):
        number *= 100
    return min(100.0, number)


def normalize_money(value: Any) -> float | None:
    """A non-negative amount from `25000`, `"$25,000"`, `"25k"`, `"1.2M"`; None if unreadable."""
    if isinstance(value, str):
        text = value.strip().lower().replace("$", "").replace("€", "").replace("£", "").replace(",", "")
        scale = 1.0
        if text.endswith("k"):
            scale, text = 1e3, text[:-1]
        elif text.endswith("m"):
            scale, text = 1e6, text[:-1]
        number = _number(text)
        return _finite(number * scale) if number is not None else None
    return _number(value)


def normalize_text(value: Any, limit: int = 500) -> str:
    """Display text from a scalar or a one-item list (`title: [Issue Title]`), single line, bounded."""
    if isinstance(value, (list, tuple)):
        value = " ".join(_str(v) for v in value if v is not None)
    if value is None:
        return ""
    text = " ".join(_str(value).split())
    return text[:limit]


def _str(value: Any) -> str:
    """str() that never raises: Python refuses to turn an integer of over 4300 digits into text."""
    try:
        return str(value)
    except ValueError:
        return "(a number too long to show)"


# A line's start is matched as its newline (the text is given one in front): a pattern that starts
# with `^` is tried at every character, one that starts with a character only where it occurs (twice as fast).
_CHECKBOX = re.compile(r"\n[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[([ xX])\]")
# A fenced code block (``` or ~~~, closed by the same fence or the end of the text).
# The fence is possessive: giving back backticks to retry could only fail again, and on a long run of
# backticks with no newline after it the retries made this quadratic.
_FENCED = re.compile(r"^[ \t]*(`{3,}+|~{3,}+)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)


def count_checkboxes(body: str) -> tuple[int, int]:
    """(done, total) markdown checkboxes: `- [x]`, `* [ ]`, `1. [X]`.

    Checkboxes inside fenced code blocks are examples, not milestones, and are not counted.
    """
    if "```" in body or "~~~" in body:
        body = _FENCED.sub("", body)
    marks = _CHECKBOX.findall("\n" + body)
    return sum(1 for m in marks if m in "xX"), len(marks)


def days(value: float) -> timedelta:
    return timedelta(days=value)
