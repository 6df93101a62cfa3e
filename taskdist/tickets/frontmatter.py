"""Split a markdown file into YAML frontmatter and body, and load the YAML safely and boundedly.

Real files need leniency: an unquoted leading `@` (`assignee: @alex`) is invalid YAML that dozens of
real tickets contain, so it is quoted and the text re-read, with a warning; a date or number the
constructor cannot build (`due: 2024-13-45`) stays text. Hostile files need bounds (`LimitsConfig`,
docs/limits.md): the size before parsing, the nesting depth before composing (libyaml's composer
would overflow the C stack), the size with every alias and merge key expanded, the depth and the
alias count before constructing (the constructor copies merge entries), all in linear time.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from taskdist.config import LimitsConfig
from taskdist.errors import ParseError
from taskdist.tickets.plainyaml import PlainReader

# The C loader is ~8x faster; fall back to the pure-Python one where libyaml is missing.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPEN_FENCE = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
# The closing fence's line is found by the newline before it: a pattern that starts with `^` is tried at
# every character of the frontmatter, one that starts with a character only where it occurs (2.2 -> 0.4 us).
_CLOSE_FENCE = re.compile(r"\n(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
# `key: @value` and `- @value` (block style) and `[@a, @b]` (flow style).
# Every part stops at the end of its line and nothing lazy is followed by a repeatable part, so the
# patterns run in linear time on any text (they are applied to hostile files too).
_AT_BLOCK = re.compile(
    r"^(?P<lead>[ \t]*(?:-[ \t]+)?(?:[^\s:#'\"][^:#\r\n]*:[ \t]+)?)(?P<value>@[^\r\n#]*)(?P<tail>#[^\r\n]*)?$",
    re.MULTILINE,
)
_AT_FLOW = re.compile(r"(?P<lead>[\[,][ \t]*)(?P<value>@[^,\]\r\n]*)(?=[,\]])")


@dataclass(slots=True)
class Frontmatter:
    """The parsed mapping, the body text, and what had to be repaired to read it."""

    data: dict[str, Any]
    body: str
    body_line: int
    warnings: list[str] = field(default_factory=list)
    yaml_text: str = ""  # the frontmatter as written (before any repair)


def frontmatter_bounds(text: str) -> tuple[int, int, int] | None:
    """Where the YAML between the fences starts and ends, and where the closing fence's line ends
    (before its line break); None without an opening fence. The reader and write-back both use it,
    so a value is written back into the very frontmatter it was read from."""
    opening = _OPEN_FENCE.match(text)
    if not opening:
        return None
    closing = _CLOSE_FENCE.search(text, opening.end() - 1)  # from the opening line's newline
    if not closing:
        raise ParseError("frontmatter opened with '---' on line 1 is never closed", line=1)
    return opening.end(), closing.start() + 1, closing.end()


def split(text: str) -> tuple[str, str, int] | None:
    """Return (yaml_text, body, body_first_line) or None when the file has no frontmatter."""
    bounds = frontmatter_bounds(text)
    if bounds is None:
        return None
    start, end, fence_end = bounds
    rest = text[fence_end:]
    if rest.startswith("\r\n"):
        rest = rest[2:]
    elif rest.startswith("\n"):
        rest = rest[1:]
    body_line = text.count("\n", 0, fence_end) + 2
    return text[start:end], rest, body_line


def quote_at_values(yaml_text: str) -> tuple[str, list[int]]:
    """Quote unquoted values that start with `@`; return the new text and the 1-based lines changed."""
    changed: set[int] = set()

    def quote(pattern: re.Pattern[str], text: str) -> str:
        # Line numbers by bisection over the newline offsets: counting from the start for every match
        # would be quadratic on a file with many such values. Quoting never adds a line.
        newlines = [m.start() for m in re.finditer("\n", text)]

        def one(match: re.Match[str]) -> str:
            changed.add(bisect.bisect_left(newlines, match.start()) + 1)
            value = match.group("value")
            kept = value.rstrip()
            tail = match.groupdict().get("tail") or ""
            return f"{match.group('lead')}{_quote(kept)}{value[len(kept) :]}{tail}"

        return pattern.sub(one, text)

    text = quote(_AT_BLOCK, quote(_AT_FLOW, yaml_text))
    return text, sorted(changed)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _problem_line(exc: yaml.YAMLError, offset: int) -> int | None:
    """The file line of a YAML error; `offset` is the file line the YAML text starts on.

    An error found at the end of the text (an unclosed quote) points where the open construct began.
    """
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    mark = context if context is not None and "end of stream" in str(getattr(exc, "problem", "")) else problem
    mark = mark or context
    return mark.line + offset if mark is not None else None


def _describe(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    text = problem or str(exc).splitlines()[0]
    if context and problem:
        text = f"{context}: {problem}"
    return f"invalid YAML frontmatter ({text})"


def _yaml_error(exc: yaml.YAMLError, limits: LimitsConfig, line_offset: int) -> ParseError:
    """The ParseError for a YAML error; libyaml's own nesting bound (0.2.6+) reads as the depth limit."""
    if "exceeded maximum nesting depth" in str(getattr(exc, "problem", "")):
        if min(limits.max_yaml_depth, _DEPTH_CAP) < _LIBYAML_NESTING:
            return _deep(limits)
        return ParseError(f"frontmatter nests deeper than {_LIBYAML_NESTING} levels (the YAML parser's own bound)")
    return ParseError(_describe(exc), line=_problem_line(exc, line_offset))


# libyaml's composer recurses once per nesting level and overflows the C stack (a segfault, not an
# exception) somewhere past 20,000 levels. A document whose cheap depth bound passes _CHECK_ABOVE is
# measured exactly with the non-recursive event parser first, and nothing nesting deeper than
# _DEPTH_CAP is ever composed, whatever limits.max_yaml_depth says.
_CHECK_ABOVE = 1000
_DEPTH_CAP = 5000
# libyaml 0.2.6 refuses more than 1000 nested collections itself ("exceeded maximum nesting depth").
_LIBYAML_NESTING = 1000
# The blanks and block indicators (`- `, `? `, `: `) a line starts with: where its innermost block
# collection can begin.
_LINE_PREFIX = re.compile(r"^[ \t?:-]*", re.MULTILINE)
# Integers longer than this stay text: int() of a long decimal is refused by Python (4300 digits),
# and a long base-60 literal (`1:2:3:...`) costs quadratic time to convert.
_MAX_NUMBER_TEXT = 100


def _lenient(construct: Any, numeric: bool = False) -> Any:
    """Wrap a scalar constructor so a value it cannot build stays the text it was written as."""

    def build(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        if numeric and len(str(node.value)) > _MAX_NUMBER_TEXT:
            return str(node.value)
        try:
            return construct(loader, node)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError):
            # `due: 2024-13-45`, `!!int abc`, `!!bool maybe`: lenient, like every other unreadable value.
            return str(node.value)

    return build


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader whose number, boolean and date scalars never raise and never cost unbounded time."""


for _tag, _construct, _numeric in (
    ("tag:yaml.org,2002:int", yaml.SafeLoader.construct_yaml_int, True),
    ("tag:yaml.org,2002:float", yaml.SafeLoader.construct_yaml_float, True),
    ("tag:yaml.org,2002:bool", yaml.SafeLoader.construct_yaml_bool, False),
    ("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_timestamp, False),
):
    _Loader.add_constructor(_tag, _lenient(_construct, _numeric))


_PLAIN = PlainReader(_Loader)
# The plain reader nests at most three collections deep (a flow list in an indented mapping).
_PLAIN_DEPTH = 3


def _depth_bound(yaml_text: str) -> int:
    """An upper bound of the nesting depth, cheap to compute.

    A block collection nested in another starts at a greater column (a sequence level with its mapping
    key at most once per mapping), and a block collection starts after a line's leading blanks and
    indicators; so block depth is at most twice the longest such prefix. Flow collections add at most
    their bracket depth (brackets inside quotes only make the bound looser).
    """
    longest = max(map(len, _LINE_PREFIX.findall(yaml_text)), default=0)
    depth = deepest = 0
    for char in re.findall(r"[\[\]{}]", yaml_text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return 2 * longest + 2 + deepest


def _event_depth(yaml_text: str, stop_above: int, limits: LimitsConfig, line_offset: int) -> int:
    """The exact nesting depth from the (non-recursive) event parser, stopping once past `stop_above`."""
    depth = deepest = 0
    loader = _Loader(yaml_text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > stop_above:
                        return deepest
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, limits, line_offset) from exc
    finally:
        loader.dispose()
    return deepest


def _deep(limits: LimitsConfig) -> ParseError:
    if limits.max_yaml_depth > _DEPTH_CAP:
        return ParseError(f"frontmatter nests deeper than {_DEPTH_CAP} levels (the parser's own bound)")
    return ParseError(f"frontmatter nests deeper than {limits.max_yaml_depth} levels (limits.max_yaml_depth)")


def _too_many(limits: LimitsConfig) -> ParseError:
    return ParseError(f"frontmatter expands to more than {limits.max_yaml_nodes} values (limits.max_yaml_nodes)")


def _check_tree(root: yaml.Node, limits: LimitsConfig) -> None:
    """Refuse a composed document without aliases (a plain tree) that is too large or too deep."""
    deepest = min(limits.max_yaml_depth, _DEPTH_CAP)
    budget = limits.max_yaml_nodes
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _too_many(limits)
        if isinstance(node, yaml.ScalarNode):
            continue
        if depth > deepest:
            raise _deep(limits)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        else:
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
# Scalars the direct builder hands to their registered (lenient) constructors; `str` it builds itself.
_SCALAR_TAGS = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
)
# The direct builder recurses; a document nesting deeper than this (rare) takes the general path.
_BUILD_DEPTH = 40


class _Unusual(Exception):
    """The direct builder met what it leaves to the general path: a rare tag, a merge key, a bound."""


def _build_tree(loader: yaml.SafeLoader, root: yaml.Node, limits: LimitsConfig) -> Any:
    """Build an alias-free document straight from its nodes: what `construct_document` returns.

    The safe constructor's generic machinery (object cache, recursion tracking, generators) costs
    twice the composing itself and is only needed for aliases. This handles plain mappings (scalar
    keys, no `<<` merge or `=` value keys), sequences and the core scalar tags, counting nodes and
    depth as `_check_tree` does; anything else, or any bound reached, raises `_Unusual`, and the
    caller checks and builds the document the general way (with its own errors).
    """
    budget = limits.max_yaml_nodes
    deepest = min(limits.max_yaml_depth, _DEPTH_CAP, _BUILD_DEPTH)
    constructors = loader.yaml_constructors
    scalar, sequence, mapping = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

    def build(node: yaml.Node, depth: int) -> Any:
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise _Unusual
        kind, tag = type(node), node.tag
        if kind is scalar:
            if tag == _STR_TAG:
                return node.value
            if tag in _SCALAR_TAGS:
                return constructors[tag](loader, node)
            raise _Unusual
        if depth > deepest:
            raise _Unusual
        if kind is mapping and tag == _MAP_TAG:
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                # Plain text keys and values (most of a ticket) are taken inline, without a call.
                if type(key_node) is scalar and key_node.tag == _STR_TAG:
                    budget -= 1
                    key = key_node.value
                elif type(key_node) is not scalar or key_node.tag in (_MERGE_TAG, _VALUE_TAG):
                    raise _Unusual
                else:
                    key = build(key_node, depth + 1)
                if type(value_node) is scalar and value_node.tag == _STR_TAG:
                    budget -= 1
                    result[key] = value_node.value
                else:
                    result[key] = build(value_node, depth + 1)
            if budget < 0:
                raise _Unusual
            return result
        if kind is sequence and tag == _SEQ_TAG:
            return [build(child, depth + 1) for child in node.value]
        raise _Unusual

    return build(root, 1)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_graph(root: yaml.Node, limits: LimitsConfig) -> None:
    """Refuse a composed document whose tree, with every alias expanded, is too large, deep or aliased.

    Sizes and heights are memoised per node, so this costs one visit per distinct node however much the
    aliases would expand: a billion-laughs document, or merge keys (`<<: [*a, *a, *a]`) that make the
    constructor copy entries exponentially, are refused before anything is built.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    active: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            total = 1 + sum(size[id(k)] for k in kids)
            tallest = 0 if isinstance(node, yaml.ScalarNode) else 1 + max((height[id(k)] for k in kids), default=0)
            if total > limits.max_yaml_nodes:
                raise _too_many(limits)
            if tallest > min(limits.max_yaml_depth, _DEPTH_CAP):
                raise _deep(limits)
            size[key], height[key] = total, tallest
            active.discard(key)
            continue
        if key in size:
            aliases += 1
            if aliases > limits.max_aliases:
                raise ParseError(f"frontmatter uses more than {limits.max_aliases} YAML aliases (limits.max_aliases)")
            continue
        if key in active:
            raise ParseError("frontmatter refers to itself through a YAML alias (a recursive structure)")
        active.add(key)
        stack.append((node, True))
        # Reversed, so children are visited in document order: an anchor is finished before its aliases.
        stack.extend((child, False) for child in reversed(_children(node)))


def load_yaml(yaml_text: str, limits: LimitsConfig, line_offset: int = 1) -> Any:
    """Load YAML with the safe (C) loader, within the configured bounds; raise ParseError otherwise.

    Order matters: the size is checked before parsing, the depth before composing (the C composer
    recurses), the expanded size, depth and aliases before constructing (the constructor expands
    merge keys), and the constructor itself keeps unbuildable numbers and dates as text.
    """
    if len(yaml_text) > limits.max_frontmatter_bytes:
        raise ParseError(
            f"frontmatter is {len(yaml_text)} bytes, over the limit of {limits.max_frontmatter_bytes} "
            "(limits.max_frontmatter_bytes)"
        )
    ceiling = min(limits.max_yaml_depth, _DEPTH_CAP)
    if ceiling >= _PLAIN_DEPTH:
        # Most frontmatter is plain `key: value` lines, read exactly as PyYAML reads them in a third
        # of the time; anything else (or anything over `max_yaml_nodes`) is declined and loaded below.
        plain = _PLAIN.read(yaml_text, limits.max_yaml_nodes)
        if plain is not None:
            return plain
    if _depth_bound(yaml_text) > _CHECK_ABOVE and _event_depth(yaml_text, ceiling, limits, line_offset) > ceiling:
        raise _deep(limits)
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in yaml_text:
            _check_graph(node, limits)
        else:
            # Without an alias the document is a plain tree: built directly, within the same bounds,
            # unless it holds something only PyYAML's constructor builds (then checked, then built).
            try:
                return _build_tree(loader, node, limits)
            except _Unusual:
                _check_tree(node, limits)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, limits, line_offset) from exc
    except RecursionError as exc:
        raise _deep(limits) from exc
    finally:
        loader.dispose()


def read_frontmatter(text: str, limits: LimitsConfig) -> Frontmatter | None:
    """Parse a ticket file's text; None when it has no frontmatter block at all."""
    parts = split(text)
    if parts is None:
        return None
    yaml_text, body, body_line = parts
    warnings: list[str] = []
    try:
        data = load_yaml(yaml_text, limits, line_offset=2)
    except ParseError as first:
        if "@" not in yaml_text or "cannot start any token" not in first.reason:
            raise
        repaired, lines = quote_at_values(yaml_text)
        if not lines:
            raise
        data = load_yaml(repaired, limits, line_offset=2)
        shown = ", ".join(str(n + 1) for n in lines[:10]) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
        warnings.append(f"unquoted value starting with '@' on line {shown}: quoted to read the file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParseError(f"frontmatter is a {type(data).__name__}, not a mapping of fields", line=2)
    if not all(type(k) is str for k in data):
        data = {str(k): v for k, v in data.items()}
    return Frontmatter(data=data, body=body, body_line=body_line, warnings=warnings, yaml_text=yaml_text)


# Greedy and stripped afterwards: a lazy value followed by optional blanks is quadratic on a long line.
_KEY_LINE = "^{key}[ \\t]*:(?P<value>[^\\r\\n#]*)(?:#[^\\r\\n]*)?$"


def raw_scalar(yaml_text: str, key: str) -> str | None:
    """The literal text of a top-level `key: value` line (ids like `012` that YAML turned into numbers)."""
    match = re.search(_KEY_LINE.format(key=re.escape(key)), yaml_text, re.MULTILINE)
    if not match:
        return None
    value = match.group("value").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value or None


_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def to_json_safe(value: Any) -> Any:
    """Frontmatter values as JSON-able data: dates become ISO text, keys become strings."""
    kind = type(value)
    # Exact-type shortcuts for what YAML almost always gives (a third of this function's cost otherwise).
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    # Plain values are taken in line, without a call each.
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _PLAIN_TYPES else to_json_safe(v) for k, v in value.items()
        }
    if kind is list:
        return [v if type(v) in _PLAIN_TYPES else to_json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):  # a tuple: `datetime | date` builds a union every call
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
