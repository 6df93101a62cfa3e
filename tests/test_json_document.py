"""`json_document` writes exactly what `json.dumps(safe_json(value), indent=2, default=str)` writes."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.render import json_document, safe_json


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Mixed(str, enum.Enum):  # noqa: UP042  (the point: str() is "Mixed.LOW", not its value)
    LOW = "low"


# Text with the characters safe() rewrites: C0 controls, tab, newline, DEL, C1 (CSI), and non-ASCII.
TEXT = st.text(st.sampled_from(["a", " ", "é", "日", "\x1b", "\t", "\n", "\r", "\x7f", "\x9b", '"', "\\", "\u2028"]))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from([Colour.RED, Level.HIGH, Mixed.LOW, datetime(2026, 11, 22, 9, 0, tzinfo=UTC)]),
)
KEYS = st.one_of(TEXT, st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_the_text_is_json_dumps_of_the_safe_value(value: Any) -> None:
    assert json_document(value) == json.dumps(safe_json(value), indent=2, default=str)


def test_an_escape_sequence_in_a_title_reaches_the_document_as_visible_text() -> None:
    text = json_document({"tickets": [{"title": "\x1b[31mred\x1b[0m\x9b2J", "tags": ()}], "empty": {}})
    assert json.loads(text) == {"tickets": [{"title": "\\x1b[31mred\\x1b[0m\\x9b2J", "tags": []}], "empty": {}}
    assert text.isascii() and "\x1b" not in text
