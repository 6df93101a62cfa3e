"""Writing a decision back into a ticket file: only the bytes of one value change.

Rules (docs/assignment.md):
- the file must be the one imported: its SHA-256 must equal the hash the ledger recorded, else the
  write is refused (`WriteBackRefused`, exit code 65) and nothing is written;
- only the value's bytes change: line endings, quoting style, comments, key order, a BOM and every
  other byte stay. Dialect A, C and D write `assignee: VALUE`; dialect B writes `assignees:` as a
  list (`[]` becomes `[agent]`, a block list gets its first item replaced). A file with no assignee
  field gets one line, `assignee: agent` (`assignees: [agent]` in dialect B), at the end of its
  frontmatter: the only case where bytes are added rather than replaced;
- the result is read back with the importer's own reader before it is written: the field must now
  say the new value and every other field must read exactly as before, else the write is refused;
- the file is replaced atomically: a temporary file in the same folder, fsync, `os.replace`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from taskdist.errors import ParseError, WriteBackRefused

_LIST_KEYS = ("assignees",)


@dataclass(frozen=True, slots=True)
class Edit:
    """A changed text and what the field now holds (for the ledger's copy of the frontmatter)."""

    text: str
    key: str
    value: Any
    raw: str | None = None


def _frontmatter_bounds(text: str) -> tuple[int, int]:
    from taskdist.tickets.frontmatter import frontmatter_bounds  # the reader's own fences (imported lazily, as below)

    try:
        bounds = frontmatter_bounds(text)
    except ParseError as exc:
        raise WriteBackRefused("the file's frontmatter is never closed") from exc
    if bounds is None:
        raise WriteBackRefused("the file has no YAML frontmatter to write the value into")
    return bounds[0], bounds[1]


def _key_line(text: str, start: int, end: int, key: str) -> re.Match[str] | None:
    pattern = re.compile(rf"^(?P<key>{re.escape(key)})[ \t]*:(?P<rest>[^\r\n]*)", re.MULTILINE)
    return pattern.search(text, start, end)


def _plain_ok(value: str, flow: bool = False) -> bool:
    """Whether `value` reads back as this exact string when written unquoted."""
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        return False
    if flow and any(c in value for c in ",[]{}"):
        return False
    try:
        loaded = yaml.safe_load(f"k: [{value}]" if flow else f"k: {value}")
    except yaml.YAMLError:
        return False
    expected: Any = [value] if flow else value
    return isinstance(loaded, dict) and loaded.get("k") == expected


def _render(value: str, style: str, flow: bool = False) -> str:
    """`value` as YAML in the style found (' or " or plain); plain only when it reads back the same."""
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style == "plain" and _plain_ok(value, flow):
        return value
    return json.dumps(value, ensure_ascii=False)


def _split_scalar(rest: str) -> tuple[str, str, str, str]:
    """(leading space, value text, style, trailing text incl. comment) of what follows `key:`."""
    lead = rest[: len(rest) - len(rest.lstrip(" \t"))]
    body = rest[len(lead) :]
    if body[:1] in ("'", '"'):
        quote = body[0]
        k = 1
        while k < len(body):
            if quote == "'" and body[k] == "'":
                if body[k + 1 : k + 2] == "'":
                    k += 2
                    continue
                break
            if quote == '"' and body[k] == "\\":
                k += 2
                continue
            if quote == '"' and body[k] == '"':
                break
            k += 1
        return lead, body[: k + 1], quote, body[k + 1 :]
    comment = re.search(r"(?:^|[ \t])#", body)
    value_end = comment.start() if comment else len(body)
    value = body[:value_end].rstrip(" \t")
    return lead, value, "plain", body[len(value) :]


def edit_scalar(text: str, key: str, value: str, *, add_missing: bool = False) -> str:
    """`text` with the top-level `key: VALUE` of its frontmatter set to `value` (bytes of the value only)."""
    start, end = _frontmatter_bounds(text)
    match = _key_line(text, start, end, key)
    if match is None:
        if not add_missing:
            raise WriteBackRefused(f"the frontmatter has no `{key}:` field to change")
        newline = "\r\n" if "\r\n" in text[:end] else "\n"
        return text[:end] + f"{key}: {_render(value, 'plain')}{newline}" + text[end:]
    rest = match.group("rest")
    lead, old, style, tail = _split_scalar(rest)
    if not old and _block_follows(text, match.end(), end):
        raise WriteBackRefused(f"`{key}:` holds a block (a list or a mapping), not a single value")
    if old in ("|", ">", "|-", ">-", "|+", ">+"):
        raise WriteBackRefused(f"`{key}:` holds a multi-line block, not a single value")
    new = _render(value, style)
    if not old:
        lead = lead or " "
    position = match.start("rest")
    return text[:position] + lead + new + tail + text[match.end() :]


def _block_follows(text: str, line_end: int, end: int) -> bool:
    """Whether the lines after a `key:` line with no value are its block (indented, or `- ` items)."""
    following = text[line_end:end].lstrip("\r\n")
    first = following.split("\n", 1)[0]
    return bool(first) and (first[:1] in (" ", "\t") or first.startswith("- ") or first.rstrip("\r") == "-")


def edit_list_first(text: str, key: str, value: str, *, add_missing: bool = False) -> str:
    """`text` with the top-level list `key:` holding `value` first (only the first item's bytes change)."""
    start, end = _frontmatter_bounds(text)
    match = _key_line(text, start, end, key)
    if match is None:
        if not add_missing:
            raise WriteBackRefused(f"the frontmatter has no `{key}:` field to change")
        newline = "\r\n" if "\r\n" in text[:end] else "\n"
        return text[:end] + f"{key}: [{_render(value, 'plain', flow=True)}]{newline}" + text[end:]
    rest = match.group("rest")
    lead, old, style, tail = _split_scalar(rest)
    position = match.start("rest")
    body = rest[len(lead) :]
    if body.startswith("["):
        close = body.find("]")
        if close < 0:
            raise WriteBackRefused(f"`{key}:` is a flow list that does not close on its line")
        inner = body[1:close]
        first = inner.split(",", 1)
        item = first[0]
        item_lead = item[: len(item) - len(item.lstrip())]
        item_text = item.strip()
        item_style = item_text[0] if item_text[:1] in ("'", '"') else "plain"
        item_tail = item[len(item_lead) + len(item_text) :]
        new_item = item_lead + _render(value, item_style, flow=True) + item_tail
        new_inner = new_item + ("," + first[1] if len(first) > 1 else "")
        return text[:position] + lead + "[" + new_inner + body[close:] + text[match.end() :]
    if not old and _block_follows(text, match.end(), end):
        item = re.compile(r"^(?P<indent>[ \t]*)-[ \t]+(?P<rest>[^\r\n]*)", re.MULTILINE).search(text, match.end(), end)
        if item is None:
            raise WriteBackRefused(f"`{key}:` holds a block that is not a list")
        i_lead, i_old, i_style, i_tail = _split_scalar(item.group("rest"))
        if i_old.startswith(("[", "{")) or not i_old:
            raise WriteBackRefused(f"the first item of `{key}:` is not a single value")
        spot = item.start("rest")
        return text[:spot] + i_lead + _render(value, i_style) + i_tail + text[item.end() :]
    # An empty value, null, '' or a single scalar: the list becomes `[value]`.
    _ = style
    if not old:
        lead = lead or " "
    return text[:position] + lead + "[" + _render(value, "plain", flow=True) + "]" + tail + text[match.end() :]


def assignee_edit(text: str, agent: str) -> Edit:
    """Set the assignee the way the file's dialect writes it (see the module docstring)."""
    start, end = _frontmatter_bounds(text)
    if _key_line(text, start, end, "assignees") is not None:
        return Edit(edit_list_first(text, "assignees", agent), "assignees", [agent])
    if _key_line(text, start, end, "assignee") is not None:
        return Edit(edit_scalar(text, "assignee", agent), "assignee", agent)
    if _key_line(text, start, end, "id") is not None and _key_line(text, start, end, "created_at") is not None:
        return Edit(edit_list_first(text, "assignees", agent, add_missing=True), "assignees", [agent])
    return Edit(edit_scalar(text, "assignee", agent, add_missing=True), "assignee", agent)


def _check_reads_back(old_text: str, new_text: str, key: str, agent: str | None, status: str | None) -> dict[str, Any]:
    """The importer's reader must see the new value and every other field exactly as before.

    Returns the frontmatter as the importer will read it after the change."""
    from taskdist.config import LimitsConfig
    from taskdist.errors import ParseError
    from taskdist.tickets.frontmatter import read_frontmatter
    from taskdist.tickets.normalize import normalize_assignee

    limits = LimitsConfig()
    try:
        before = read_frontmatter(old_text, limits)
        after = read_frontmatter(new_text, limits)
    except ParseError as exc:
        raise WriteBackRefused(f"the file would not read back after the change ({exc.reason})") from exc
    if before is None or after is None:
        raise WriteBackRefused("the file's frontmatter could not be read back")
    others_before = {k: v for k, v in before.data.items() if k != key}
    others_after = {k: v for k, v in after.data.items() if k != key}
    if others_before != others_after or before.body != after.body:
        raise WriteBackRefused(f"changing `{key}` would change other fields too; nothing written")
    if agent is not None:
        data = after.data
        raw = data.get("assignees") if data.get("assignees") not in (None, "", []) else data.get("assignee")
        if normalize_assignee(raw) != agent:
            raise WriteBackRefused(f"after the change the file would name {normalize_assignee(raw)!r}, not {agent!r}")
    if status is not None and str(after.data.get(key)) != status:
        raise WriteBackRefused(f"after the change `{key}` would read {after.data.get(key)!r}, not {status!r}")
    return after.data


def _read_checked(path: Path, expected_hash: str) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WriteBackRefused(f"{path}: cannot read it ({exc.strerror}); nothing was written") from exc
    if hashlib.sha256(data).hexdigest() != expected_hash:
        raise WriteBackRefused(
            f"{path} changed since it was imported; run `taskdist import` and plan again (nothing was written)"
        )
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WriteBackRefused(f"{path} is not UTF-8 text; writing it back would re-encode it") from exc


def replace_atomically(path: Path, data: bytes) -> tuple[str, int, int]:
    """Write `data` to a temporary file beside `path`, fsync it, and rename it over `path`.

    Returns the new SHA-256, size and mtime_ns. A symbolic link is followed: its target is replaced.
    """
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777
    temporary = target.with_name(f".{target.name}.taskdist-{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:
        folder = -1
    if folder >= 0:
        try:
            os.fsync(folder)
        except OSError:
            pass
        finally:
            os.close(folder)
    info = os.stat(path)
    return hashlib.sha256(data).hexdigest(), info.st_size, info.st_mtime_ns


def set_scalar(path: Path, key: str, value: str, *, expected_hash: str) -> str:
    """Set a top-level scalar field (e.g. `status`) in a ticket file; returns the file's new SHA-256."""
    _, text = _read_checked(path, expected_hash)
    try:
        new_text = edit_scalar(text, key, value)
        _check_reads_back(text, new_text, key, None, value)
    except WriteBackRefused as exc:
        raise WriteBackRefused(f"{path}: {exc}") from exc
    new_hash, _, _ = replace_atomically(path, new_text.encode("utf-8"))
    return new_hash


def set_assignee(path: Path, agent: str, *, expected_hash: str) -> tuple[Edit, str, int, int]:
    """Put `agent` as the assignee of a ticket file; returns the edit (its value and raw text as the
    importer will read them) and the file's new hash, size and mtime_ns."""
    from taskdist.tickets.frontmatter import to_json_safe

    _, text = _read_checked(path, expected_hash)
    try:
        edit = assignee_edit(text, agent)
        data = _check_reads_back(text, edit.text, edit.key, agent, None)
    except WriteBackRefused as exc:
        raise WriteBackRefused(f"{path}: {exc}") from exc
    raw = data.get("assignees") if data.get("assignees") not in (None, "", []) else data.get("assignee")
    edit = Edit(edit.text, edit.key, to_json_safe(data.get(edit.key)), str(to_json_safe(raw))[:200])
    return (edit, *replace_atomically(path, edit.text.encode("utf-8")))


def check_files(ledger: Any, items: Sequence[tuple[str, str, str]]) -> None:
    """Refuse before anything is written if any file is gone, changed since import, or cannot take the value."""
    from taskdist.ledger.assignments import files_of

    files = files_of(ledger, [(p, t) for p, t, _ in items])
    problems = []
    for project, ticket, agent in items:
        info = files.get((project, ticket))
        if info is None or info.missing or not info.path:
            problems.append(f"{project}:{ticket}: its file is gone")
            continue
        path = Path(info.path)
        try:
            _, text = _read_checked(path, info.content_hash)
            edit = assignee_edit(text, agent)
            _check_reads_back(text, edit.text, edit.key, agent, None)
        except WriteBackRefused as exc:
            problems.append(f"{project}:{ticket}: {exc}")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise WriteBackRefused(f"write-back refused, nothing was applied or written: {shown}")


def write_assignees(ledger: Any, items: Sequence[tuple[str, str, str]], now: datetime) -> list[str]:
    """Write each agent into its ticket's file (after `check_files`), keeping the ledger in step."""
    from taskdist.ledger.assignments import files_of, record_written_file

    files = files_of(ledger, [(p, t) for p, t, _ in items])
    written = []
    for project, ticket, agent in items:
        info = files[(project, ticket)]
        path = Path(info.path)
        edit, new_hash, size, mtime_ns = set_assignee(path, agent, expected_hash=info.content_hash)
        record_written_file(
            ledger,
            project,
            ticket,
            info.path,
            content_hash=new_hash,
            size=size,
            mtime_ns=mtime_ns,
            assignee=agent,
            frontmatter_key=edit.key,
            frontmatter_value=edit.value,
            assignee_raw=edit.raw,
        )
        ledger.add_event(
            now, "written_back", project=project, ticket=ticket, agent=agent, data={"field": edit.key, "value": agent}
        )
        written.append(info.path)
    return written
