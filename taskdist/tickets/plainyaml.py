"""A fast reader for the plain subset of YAML that most frontmatter is written in.

Most ticket frontmatter is `key: value` lines: plain or simply quoted scalars, one-line `[a, b]`
lists, and one level of indented mapping or `- item` list. For such text this reader gives exactly
what PyYAML's safe loader gives, in a third of the time: scalars are resolved by PyYAML's own
implicit resolvers and built by the loader's own constructors, so `yes`, `012`, `1:30` and dates
come out as PyYAML makes them. Anything else (anchors, tags, block scalars, multi-line values,
escapes, comments after values, tabs, unusual characters, deeper nesting) makes it return None
and the caller loads the text with PyYAML, with all its checks and error messages: this reader
never refuses a document, it only declines one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
# `key:` or `key: value` (the value's trailing blanks are stripped by the caller).
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?\Z")
_ITEM_LINE = re.compile(r"- +(.*)\Z")
# Every line of a document at once, as (key, value, indent, rest): a top-level `key:`/`key: value`
# line, an indented line, or (all four empty) a blank line or a whole-line comment. A line of any other
# shape (a top-level `- item`, a quoted key, `key:value`) is not matched: the count of matches falls
# short of the count of lines, and the document is declined.
_LINES = re.compile(r"^(?:([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?|( +)(.*)|#.*|)$", re.MULTILINE)
_SINGLE_QUOTED = re.compile(r"'(?:[^']|'')*'\Z")
# Characters that start something other than a plain scalar (YAML 1.1 indicators).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_SPECIAL = frozenset("[]{}'\"#:")
# The canonical ISO 8601 dates and timestamps, a subset of what PyYAML's timestamp resolver accepts
# (ASCII digits; upper-case T; no blanks; at most 6 fraction digits; a zone as Z or +hh:mm).
_ISO_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?\Z"
)
_REMEMBERED = 4096  # distinct keys, and values, remembered; forgotten all at once past that
_IMMUTABLE = (str, int, float, bool, type(None), date, datetime)


class _Declined(Exception):
    """The text is outside the subset: PyYAML reads it."""


class PlainReader:
    """Reads the plain subset with the resolvers and constructors of a given PyYAML loader class."""

    def __init__(self, loader_class: type[Any]) -> None:
        resolvers = loader_class.yaml_implicit_resolvers
        wildcard = list(resolvers.get(None, []))
        # Resolver.resolve tries the resolvers of the first character, then the wildcard ones.
        self._by_first = {first: list(found) + wildcard for first, found in resolvers.items() if first is not None}
        self._wildcard = wildcard
        self._constructors = loader_class.yaml_constructors
        self._loader_class = loader_class
        self._loader: Any = None
        # What a key's or a one-line value's text reads as depends on that text alone, and keys and the
        # usual values (statuses, priorities, names, tag lists) recur in every file: remembered, they
        # skip the checks, the resolvers' regular expressions and the constructors. Values are kept
        # immutable (a list as a tuple, copied out), so a remembered value is never shared mutably.
        self._keys: set[str] = set()
        self._values: dict[str, tuple[Any, int]] = {}

    def read(self, text: str, max_nodes: int) -> dict[str, Any] | None:
        """The mapping PyYAML would load from `text`, or None when `text` is outside the subset."""
        if "\r" in text or "\t" in text:
            return None
        # One call for the whole text, not one a line: 24.7 -> 21.6 us for generated frontmatter.
        tokens = _LINES.findall(text)
        if len(tokens) != text.count("\n") + 1:  # at most one match a line: some line did not match
            return None
        try:
            return self._document(tokens, max_nodes)
        except _Declined:
            return None

    def _document(self, tokens: list[tuple[str, str, str, str]], max_nodes: int) -> dict[str, Any] | None:
        """The mapping from the matched lines of a document (see `_LINES`); raise `_Declined` outside the subset."""
        result: dict[str, Any] = {}
        nodes = 1
        index, count = 0, len(tokens)
        keys, values = self._keys, self._values
        while index < count:
            key, value, indent, rest = tokens[index]
            index += 1
            if not key:
                if indent and rest and rest[0] != "#":
                    raise _Declined  # an indented line outside a block (blank and comment lines are skipped)
                continue
            if key not in keys:
                self._key(key)
                if len(keys) >= _REMEMBERED:
                    keys.clear()
                keys.add(key)
            value = value.rstrip(" ")
            if value:
                known = values.get(value)
                if known is None:
                    if not value.isprintable():
                        raise _Declined  # (a remembered value was checked when it was first read)
                    known = self._remember(value)
                item, size = known
                result[key] = list(item) if type(item) is tuple else item
            else:
                # The block under `key:`: the indented lines that follow, less blank and comment lines.
                block: list[str] = []
                while index < count and not tokens[index][0]:
                    _key, _value, indent, rest = tokens[index]
                    index += 1
                    if rest and rest[0] != "#":
                        block.append(indent + rest)
                if block:
                    result[key], size = self._nested(block)
                else:
                    result[key], size = None, 1
            nodes += 1 + size
            if nodes > max_nodes:
                raise _Declined  # PyYAML refuses it with the limit's message
        return result if result else None  # an empty document is PyYAML's to judge

    def _remember(self, text: str) -> tuple[Any, int]:
        """A one-line top-level value, read and kept (a list as a tuple) for the next file."""
        item, size = self._value(text)
        if type(item) is list:
            item = tuple(item)  # flow lists hold plain scalars only: the tuple is immutable
        elif not isinstance(item, _IMMUTABLE):
            return item, size  # nothing else is built here, but never share what could change
        if len(self._values) >= _REMEMBERED:
            self._values.clear()
        self._values[text] = (item, size)
        return item, size

    def _key(self, text: str) -> str:
        if self._tag(text) != _STR:
            raise _Declined  # `yes:`, `null:`, `1:` are not text keys
        return text

    def _nested(self, block: list[str]) -> tuple[Any, int]:
        """An indented block under `key:`: all `- item` lines, or all `name: scalar` lines, one indent."""
        indent = len(block[0]) - len(block[0].lstrip(" "))
        items: list[Any] = []
        mapping: dict[str, Any] = {}
        size = 1
        for line in block:
            body = line.lstrip(" ")
            if len(line) - len(body) != indent or not line.isprintable():
                raise _Declined  # another indent (deeper nesting, or a misaligned line), or odd characters
            if body[0] == "-":
                match = _ITEM_LINE.match(body)
                if match is None or mapping:
                    raise _Declined
                value = match[1].rstrip(" ")
                if not value or value[0] == "[":
                    raise _Declined
                items.append(self._value(value)[0])
                size += 1
            else:
                match = _KEY_LINE.match(body)
                if match is None or items:
                    raise _Declined
                value = (match[2] or "").rstrip(" ")
                if not value:
                    raise _Declined  # `name:` alone may open a deeper block
                mapping[self._key(match[1])], inner = self._value(value)
                size += 1 + inner
        return (items if items else mapping), size

    def _value(self, text: str) -> tuple[Any, int]:
        """A one-line value: a scalar, or a flow list of plain scalars; with its node count."""
        first = text[0]
        if first == "[":
            return self._flow_list(text)
        if first == "'":
            if _SINGLE_QUOTED.match(text) is None:
                raise _Declined
            return text[1:-1].replace("''", "'"), 1
        if first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
                raise _Declined
            return inner, 1
        if first in _INDICATORS and (first not in "-?:" or len(text) < 2 or text[1] == " "):
            raise _Declined
        if ": " in text or text[-1] == ":" or " #" in text:
            raise _Declined  # a nested mapping (an error) or a comment
        return self._plain(text), 1

    def _flow_list(self, text: str) -> tuple[list[Any], int]:
        if text[-1] != "]":
            raise _Declined
        inner = text[1:-1]
        if not inner.strip(" "):
            return [], 1
        items = []
        for part in inner.split(","):
            item = part.strip(" ")
            if not item or not _FLOW_SPECIAL.isdisjoint(item):
                raise _Declined  # an empty entry, quotes, nesting, pairs or comments
            if item[0] in _INDICATORS and (item[0] != "-" or len(item) < 2 or item[1] == " "):
                raise _Declined
            items.append(self._plain(item))
        return items, 1 + len(items)

    def _tag(self, value: str) -> str:
        for tag, regexp in self._by_first.get(value[:1], self._wildcard):
            if regexp.match(value):
                return str(tag)
        return _STR

    def _plain(self, value: str) -> Any:
        """A plain scalar as PyYAML builds it: the tag its resolvers give, built by its constructor."""
        if value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1) and len(value) <= 18:
            return int(value)  # a plain decimal integer, as PyYAML's resolver and constructor make it
        if value[4:5] == "-" and _ISO_TIMESTAMP.match(value):
            # Two or three per ticket, and PyYAML's resolver and constructor take 4.7 us for one:
            # the C parser gives the same date or datetime (tests/test_import_throughput.py compares them).
            try:
                return (datetime if len(value) > 10 else date).fromisoformat(value)
            except ValueError:
                pass  # 2026-02-30: what the loader makes of it
        tag = self._tag(value)
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        construct = self._constructors.get(tag)
        if construct is None:
            raise _Declined
        if self._loader is None:
            self._loader = self._loader_class("")
        return construct(self._loader, yaml.ScalarNode(tag, value))
