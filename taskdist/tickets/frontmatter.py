"""Split a markdown file into YAML frontmatter and body, and load the YAML safely and boundedly.

Real files need leniency: an unquoted leading `@` (`assignee: @alex`) is invalid YAML that dozens of
real tickets contain, so it is quoted and the text re-read, with a warning. Hostile files need
bounds: size, nesting depth, alias expansion and node count are all capped (see `LimitsConfig`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from taskdist.config import LimitsConfig
from taskdist.errors import ParseError

# The C loader is ~8x faster; fall back to the pure-Python one where libyaml is missing.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPEN_FENCE = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
_CLOSE_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
# `key: @value` and `- @value` (block style) and `[@a, @b]` (flow style).
_AT_BLOCK = re.compile(
    r"^(?P<lead>[ \t]*(?:-[ \t]+)?(?:[^\s:#'\"][^:#]*:[ \t]+)?)(?P<value>@[^\r\n#]*?)(?P<tail>[ \t]*(?:#.*)?)$",
    re.MULTILINE,
)
_AT_FLOW = re.compile(r"(?P<lead>[\[,][ \t]*)(?P<value>@[^,\]\r\n]*?)(?P<tail>[ \t]*(?=[,\]]))")
_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s\[\]{},]+")
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]+")


@dataclass(slots=True)
class Frontmatter:
    """The parsed mapping, the body text, and what had to be repaired to read it."""

    data: dict[str, Any]
    body: str
    body_line: int
    warnings: list[str] = field(default_factory=list)


def split(text: str) -> tuple[str, str, int] | None:
    """Return (yaml_text, body, body_first_line) or None when the file has no frontmatter."""
    opening = _OPEN_FENCE.match(text)
    if not opening:
        return None
    closing = _CLOSE_FENCE.search(text, opening.end())
    if not closing:
        raise ParseError("frontmatter opened with '---' on line 1 is never closed", line=1)
    yaml_text = text[opening.end() : closing.start()]
    rest = text[closing.end() :]
    if rest.startswith("\r\n"):
        rest = rest[2:]
    elif rest.startswith("\n"):
        rest = rest[1:]
    body_line = text.count("\n", 0, closing.end()) + 2
    return yaml_text, rest, body_line


def quote_at_values(yaml_text: str) -> tuple[str, list[int]]:
    """Quote unquoted values that start with `@`; return the new text and the 1-based lines changed."""
    changed: set[int] = set()

    def block(match: re.Match[str]) -> str:
        value = match.group("value").rstrip()
        changed.add(yaml_text.count("\n", 0, match.start()) + 1)
        return f"{match.group('lead')}{_quote(value)}{match.group('tail')}"

    def flow(match: re.Match[str]) -> str:
        changed.add(yaml_text.count("\n", 0, match.start()) + 1)
        return f"{match.group('lead')}{_quote(match.group('value').rstrip())}{match.group('tail')}"

    text = _AT_FLOW.sub(flow, yaml_text)
    text = _AT_BLOCK.sub(block, text)
    return text, sorted(changed)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _problem_line(exc: yaml.YAMLError, offset: int) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 + offset if mark is not None else None


def _describe(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    text = problem or str(exc).splitlines()[0]
    if context and problem:
        text = f"{context}: {problem}"
    return f"invalid YAML frontmatter ({text})"


def _check_shape(value: Any, limits: LimitsConfig) -> None:
    """Refuse values whose tree (aliases expanded) is too deep or too large to handle safely."""
    budget = limits.max_yaml_nodes
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise ParseError(f"frontmatter expands to more than {limits.max_yaml_nodes} values (limits.max_yaml_nodes)")
        if depth > limits.max_yaml_depth:
            raise ParseError(f"frontmatter nests deeper than {limits.max_yaml_depth} levels (limits.max_yaml_depth)")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if isinstance(k, (list, dict, tuple)))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)


def _nesting_depth(yaml_text: str) -> int:
    """Bracket nesting of flow collections: libyaml and the constructor recurse on it."""
    depth = deepest = 0
    for char in yaml_text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def load_yaml(yaml_text: str, limits: LimitsConfig, line_offset: int = 1) -> Any:
    """Load YAML with the safe (C) loader, within the configured bounds; raise ParseError otherwise."""
    if len(yaml_text) > limits.max_frontmatter_bytes:
        raise ParseError(
            f"frontmatter is {len(yaml_text)} bytes, over the limit of {limits.max_frontmatter_bytes} "
            "(limits.max_frontmatter_bytes)"
        )
    if ("[" in yaml_text or "{" in yaml_text) and _nesting_depth(yaml_text) > limits.max_yaml_depth:
        raise ParseError(f"frontmatter nests deeper than {limits.max_yaml_depth} levels (limits.max_yaml_depth)")
    if "*" in yaml_text and "&" in yaml_text and _ANCHOR.search(yaml_text):
        aliases = len(_ALIAS.findall(yaml_text))
        if aliases > limits.max_aliases:
            raise ParseError(
                f"frontmatter uses {aliases} YAML aliases, over the limit of {limits.max_aliases} (limits.max_aliases)"
            )
    try:
        value = yaml.load(yaml_text, Loader=_BaseLoader)
    except yaml.YAMLError as exc:
        raise ParseError(_describe(exc), line=_problem_line(exc, line_offset)) from exc
    except RecursionError as exc:
        raise ParseError(
            f"frontmatter nests too deeply to read (limits.max_yaml_depth={limits.max_yaml_depth})"
        ) from exc
    _check_shape(value, limits)
    return value


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
        shown = ", ".join(str(n + 1) for n in lines)
        warnings.append(f"unquoted value starting with '@' on line {shown}: quoted to read the file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParseError(f"frontmatter is a {type(data).__name__}, not a mapping of fields", line=2)
    data = {str(k): v for k, v in data.items()}
    return Frontmatter(data=data, body=body, body_line=body_line, warnings=warnings)


_KEY_LINE = "^{key}[ \\t]*:[ \\t]*(?P<value>[^\\r\\n#]*?)[ \\t]*(?:#.*)?$"


def raw_scalar(yaml_text: str, key: str) -> str | None:
    """The literal text of a top-level `key: value` line (ids like `012` that YAML turned into numbers)."""
    match = re.search(_KEY_LINE.format(key=re.escape(key)), yaml_text, re.MULTILINE)
    if not match:
        return None
    value = match.group("value").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value or None


def to_json_safe(value: Any) -> Any:
    """Frontmatter values as JSON-able data: dates become ISO text, keys become strings."""
    if isinstance(value, datetime | date):
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
