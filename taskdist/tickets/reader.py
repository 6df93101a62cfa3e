"""Turn one ticket file's text into a normalised `Ticket`, whatever its dialect.

Dialects (see docs/formats.md): A = ai-trackdown-tools (`epic_id`/`issue_id`/`task_id`/`pr_id`),
B = ai-trackdown-pytools (`id` + `assignees` + `metadata`), C = early templates (`id` + `type`,
`created`), D = legacy trackdown (`T-011`, or bold `**Status**:` lines without frontmatter), and a
generic reader for Backlog.md, CCPM, roadmap, yoda and anything with id/title/status in YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from taskdist.config import Config
from taskdist.errors import ParseError
from taskdist.models import Kind, Status, Ticket
from taskdist.tickets import normalize as nz
from taskdist.tickets.frontmatter import raw_scalar, read_frontmatter, to_json_safe
from taskdist.tickets.marker import NO_HINTS, ProjectHints

_A_ID_KEYS = ("task_id", "pr_id", "comment_id", "issue_id", "epic_id", "project_id")
_A_KIND = {
    "task_id": Kind.TASK,
    "pr_id": Kind.PR,
    "comment_id": Kind.COMMENT,
    "issue_id": Kind.ISSUE,
    "epic_id": Kind.EPIC,
    "project_id": Kind.PROJECT,
}
_PREFIX_KIND = {
    "EP": Kind.EPIC,
    "EPIC": Kind.EPIC,
    "ISS": Kind.ISSUE,
    "ISSUE": Kind.ISSUE,
    "TSK": Kind.TASK,
    "TASK": Kind.TASK,
    "T": Kind.TASK,
    "PR": Kind.PR,
    "BUG": Kind.BUG,
    "CMT": Kind.COMMENT,
    "BACK": Kind.TASK,
    "MS": Kind.MILESTONE,
    "PROJ": Kind.PROJECT,
}
_TYPE_WORDS = {
    "epic": Kind.EPIC,
    "issue": Kind.ISSUE,
    "task": Kind.TASK,
    "subtask": Kind.TASK,
    "pr": Kind.PR,
    "pull_request": Kind.PR,
    "bug": Kind.BUG,
    "bugfix": Kind.BUG,
    "bug_fix": Kind.BUG,
    "project": Kind.PROJECT,
    "milestone": Kind.MILESTONE,
    "comment": Kind.COMMENT,
    "feature": Kind.ISSUE,
    "story": Kind.ISSUE,
    "enhancement": Kind.ISSUE,
    "chore": Kind.TASK,
}
_FOLDER_KIND = {
    "epics": Kind.EPIC,
    "issues": Kind.ISSUE,
    "tasks": Kind.TASK,
    "prs": Kind.PR,
    "bugs": Kind.BUG,
    "comments": Kind.COMMENT,
    "milestones": Kind.MILESTONE,
    "projects": Kind.PROJECT,
}
_NAME_ID = re.compile(r"^(?P<id>[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z]+)*-\d+(?:\.\d+)*)(?=$|[-_ .])")
_HEADING_ID = re.compile(
    r"^#{1,3}\s+(?:\w+:\s*)?(?:\*\*)?\[?(?P<id>[A-Z][A-Z0-9]*(?:-[A-Z]+)*-\d+(?:\.\d+)*)\b\]?(?:\*\*)?[:\s-]*(?P<title>.*)$",
    re.MULTILINE,
)
# `**Status**: done`, `- **Priority**: High` and `**Priority:** High`. The value is greedy up to its
# last non-blank: a lazy value before trailing blanks was quadratic on a long line of spaces.
_BOLD_FIELD = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?\*\*(?P<key>[A-Za-z][A-Za-z _-]{0,30})(?::\*\*|\*\*[ \t]*:)[ \t]*"
    r"(?P<value>.*[^ \t\n])[ \t]*$",
    re.MULTILINE,
)
# `## Status: ✅ COMPLETED`: the same two fields written as a heading.
_HEADING_FIELD = re.compile(
    r"^#{2,4}[ \t]+(?P<key>Status|Priority)[ \t]*:[ \t]*(?P<value>.*[^ \t#\n])[ \t#]*$", re.MULTILINE
)

DEPENDS_KEYS = ("dependencies", "depends_on", "blocked_by", "requires", "prerequisites")
BLOCKS_KEYS = ("blocks",)
CHILD_KEYS = ("subtasks", "children", "tasks")
RELATED_KEYS = ("related_issues", "related_tasks", "related_prs", "related", "relates_to")
SKILL_KEYS = ("required_skills", "skills", "required_capabilities", "capabilities")
BUSINESS_KEYS = {
    "client_tier": "text",
    "customer_tier": "text",
    "strategic_importance": "text",
    "strategic": "text",
    "stakeholder_priority": "text",
    "impact": "text",
    "business_value": "text",
    "revenue_potential": "money",
    "revenue": "money",
    "cost": "money",
    "margin": "money",
    "pipeline_value": "money",
    "deal_value": "money",
}


@dataclass(slots=True)
class ReadResult:
    """A ticket (None when the file is not readable as one) and what was noticed while reading it."""

    ticket: Ticket | None
    warnings: list[str] = field(default_factory=list)


def _lookup(data: dict[str, Any], meta: dict[str, Any], *keys: str) -> Any:
    """The first present, non-empty value among `keys`, top level before dialect B's `metadata`."""
    for source in (data, meta) if meta else (data,):
        for key in keys:
            value = source.get(key)
            if value is not None and value not in _EMPTY:
                return value
    return None


_EMPTY: tuple[Any, ...] = ("", [], {})


def _dialect(data: dict[str, Any], rel_path: str) -> str:
    if "id" not in data and any(k in data for k in _A_ID_KEYS):
        return "A"
    if "id" in data and ("assignees" in data or isinstance(data.get("metadata"), dict)) and "created_at" in data:
        return "B"
    # Only the rarer dialects look at the folders (parsing the path is a few % of reading a file).
    parts = {p.lower() for p in PurePosixPath(rel_path).parts}
    if ".claude" in parts and "epics" in parts:
        return "ccpm"
    if ".roadmap" in parts:
        return "roadmap"
    if "backlog" in parts and ("ordinal" in data or str(data.get("id", "")).upper().startswith("BACK-")):
        return "backlog"
    if "schema_version" in data and "yoda" in parts:
        return "yoda"
    if "id" in data and ("token_usage" in data or "sync" in data or ("type" in data and "created" in data)):
        return "C"
    if "trackdown" in parts and "id" in data:
        return "D"
    if any(k in data for k in _A_ID_KEYS):
        return "A"
    return "generic"


def _ccpm_id(rel_path: PurePosixPath) -> tuple[str | None, Kind | None]:
    """CCPM keeps `.claude/epics/<epic>/<n>.md`: ids are `<epic>#<n>`, the epic file is `<epic>`."""
    parts = rel_path.parts
    try:
        at = [p.lower() for p in parts].index("epics")
    except ValueError:
        return None, None
    if len(parts) < at + 3:
        return None, None
    epic, stem = parts[at + 1], PurePosixPath(parts[-1]).stem
    if stem == "epic":
        return epic, Kind.EPIC
    if stem.isdigit():
        return f"{epic}#{stem}", Kind.TASK
    return None, None


def _kind_from_words(value: Any) -> Kind | None:
    if isinstance(value, str):
        return _TYPE_WORDS.get(nz._word_key(value))
    return None


def _kind_from_id(ticket_id: str, hints: ProjectHints) -> Kind | None:
    """From the id's prefix: the project's own prefixes (its marker) first, then the usual ones."""
    prefix = ticket_id.split("-", 1)[0].upper() if "-" in ticket_id else ""
    return hints.kind_for_prefix(prefix) or _PREFIX_KIND.get(prefix)


def _kind_from_folder(rel_path: str, hints: ProjectHints) -> Kind | None:
    for part in reversed(PurePosixPath(rel_path).parts[:-1]):
        kind = hints.kind_for_folder(part.lower()) or _FOLDER_KIND.get(part.lower())
        if kind:
            return kind
    return None


def _skills(data: dict[str, Any], meta: dict[str, Any], config: Config) -> tuple[tuple[str, ...], str]:
    """Required skills: an explicit field wins; else tags/labels/ai_context through the mapping."""
    explicit = _lookup(data, meta, *SKILL_KEYS)
    if explicit is not None:
        names = _names(explicit)
        if names:
            return tuple(names), "explicit"
    candidates: list[str] = []
    for key in ("tags", "labels", "ai_context"):
        candidates.extend(_names(_lookup(data, meta, key)))
    mapped: list[str] = []
    ignore = config.skills.ignore
    for tag in candidates:
        # Template values such as `context/requirements` and namespaced labels are not skills.
        if "/" in tag or ":" in tag or "{{" in tag or "}}" in tag or (ignore and tag in ignore):
            continue
        targets = config.skills.map.get(tag)
        if targets:
            mapped.extend(targets)
        elif config.skills.from_tags:
            mapped.append(tag)
    unique = tuple(dict.fromkeys(mapped))
    return unique, ("tags" if unique else "none")


_NAME_SEPARATORS = re.compile(r"[,\s]+")


def _names(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = list(value.keys())
    if isinstance(value, str):
        value = _NAME_SEPARATORS.split(value)
    if not isinstance(value, (list, tuple)):
        return []
    names = []
    for item in value:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            name = str(item).strip().lower().lstrip("#")
            if name and len(name) <= 60:
                names.append(name)
    return names


_RELATION_KEYS = (
    *DEPENDS_KEYS,
    *BLOCKS_KEYS,
    *CHILD_KEYS,
    *RELATED_KEYS,
    "parent",
    "parent_task",
    "parent_issue",
    "parent_epic",
    "parents",
    "epic",
    "issue",
    "epic_id",
    "issue_id",
    "project_id",
)


def _relations(
    data: dict[str, Any], meta: dict[str, Any], own_key: str | None, limit: int
) -> tuple[dict[str, list[str]], list[str]]:
    """Every relation field, unioned from top level and `metadata`, keyed by field name.

    Each keeps at most `limit` references; the second value names the fields that had more.
    """
    relations: dict[str, list[str]] = {}
    cut: list[str] = []
    for key in _RELATION_KEYS:
        if key == own_key or (key not in data and key not in meta):
            continue  # most files carry two or three of these twenty keys
        refs = nz.normalize_refs(data.get(key), limit + 1)  # deduped, in order
        if meta and key in meta:
            # A dict keeps order and dedupes in constant time (a list scan was quadratic at 10,000 references).
            merged = dict.fromkeys(refs)
            merged.update(dict.fromkeys(nz.normalize_refs(meta[key], limit + 1)))
            refs = list(merged)
        if len(refs) > limit:
            cut.append(key)
            refs = refs[:limit]
        if refs:
            relations[key] = refs
    return relations, cut


def _parent(kind: Kind, relations: dict[str, list[str]], own_id: str) -> str | None:
    order = (
        ("parent_task", "parent_issue", "issue_id", "issue", "parent", "parents", "parent_epic", "epic_id", "epic")
        if kind in (Kind.TASK, Kind.PR, Kind.BUG, Kind.COMMENT)
        else ("parent", "parents", "parent_epic", "epic_id", "epic", "project_id")
    )
    for key in order:
        for ref in relations.get(key, ()):
            if ref != own_id:
                return ref
    return None


def _bold_fields(body: str) -> dict[str, Any]:
    """Legacy files without frontmatter: `**Status**: done` (or `## Status: done`) lines become fields."""
    fields: dict[str, Any] = {}
    head = body[:20000]
    for match in (*_BOLD_FIELD.finditer(head), *_HEADING_FIELD.finditer(head)):
        key = nz._word_key(match.group("key"))
        if key and key not in fields:
            fields[key] = match.group("value")
    return fields


def _business(data: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = data["business"] if isinstance(data.get("business"), dict) else {}
    others = {**meta, **nested} if nested else meta
    result: dict[str, Any] = {}
    for key, kind in BUSINESS_KEYS.items():
        if key not in data and key not in others:
            continue  # most tickets carry none of these
        value = _lookup(data, others, key)
        if value is None:
            continue
        if kind == "money":
            number = nz.normalize_money(value)
            if number is not None:
                result[key] = number
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            result[key] = str(value).strip().lower()[:60]
    return result


def _title_from_body(body: str) -> str:
    for line in body.splitlines()[:40]:
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            title = re.sub(r"^(Task|Issue|Epic|Bug|PR)\s*:\s*", "", title, flags=re.IGNORECASE)
            return nz.normalize_text(title)
    return ""


def read_ticket(
    text: str, rel_path: str, project: str, abs_path: str, config: Config, hints: ProjectHints = NO_HINTS
) -> ReadResult:
    """Read one file's text into a Ticket; raise ParseError when it cannot be a ticket.

    `rel_path` (POSIX, relative to the import root) drives folder-based rules; `abs_path` is stored
    as the ticket's source and never replaced by a `file_path:` key inside the file. `hints` are the
    prefixes and folder names of the project's `.ai-trackdown/config.yaml`, if it has one.
    """
    name = rel_path.rpartition("/")[2]
    if name in ("", "."):  # `a/`, `a/.`: what pathlib calls the name
        name = PurePosixPath(rel_path).name
    parsed = read_frontmatter(text, config.limits)
    warnings: list[str] = []
    yaml_text = ""
    if parsed is None:
        body, data, body_line = text, _bold_fields(text), 1
        heading = _HEADING_ID.search(text[:5000])
        name_id = _NAME_ID.match(name)
        bold_id = nz.normalize_id(data.get("id"))
        ticket_id = bold_id or (heading.group("id") if heading else None) or (name_id.group("id") if name_id else None)
        # Prose mentions ids all the time: without frontmatter, a file is a ticket only when it also has
        # **Status**/**Priority** lines, or when its first heading names the id its file name starts with
        # (`T-045-fix-tests.md` opening with `# **[T-045]** Fix tests`).
        named = bool(heading and name_id and heading.group("id") == name_id.group("id"))
        if not ticket_id or not ({"status", "priority"} & data.keys() or named):
            raise ParseError(
                "no YAML frontmatter, and no ticket id with **Status**/**Priority** lines or a heading "
                "naming the file's id: not a ticket"
            )
        if heading and heading.group("id") == ticket_id and "title" not in data:
            data["title"] = heading.group("title").strip().strip("*").strip()
        dialect = "D"
    else:
        data, body, body_line = parsed.data, parsed.body, parsed.body_line
        warnings.extend(parsed.warnings)
        yaml_text = parsed.yaml_text
        dialect = _dialect(data, rel_path)
        ticket_id = None
    meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}

    kind: Kind | None = _kind_from_words(data.get("type")) or _kind_from_words(meta.get("type"))
    own_key: str | None = None
    if dialect == "A" or (ticket_id is None and "id" not in data):
        for key in _A_ID_KEYS:
            if key in data and nz.normalize_id(data[key]) is not None:
                own_key = key
                break
        if own_key:
            kind = kind if kind and _A_KIND[own_key] not in (Kind.TASK, Kind.PR, Kind.COMMENT) else _A_KIND[own_key]
            # `type: issue` on a file with only epic_id would contradict the keys; the keys win for tasks.
            kind = kind or _A_KIND[own_key]
    if ticket_id is None:
        key = own_key or "id"
        ticket_id = nz.normalize_id(data.get(key))
        if ticket_id is not None and not isinstance(data.get(key), str) and yaml_text:
            # `epic_id: 012` loads as the integer 10 under YAML 1.1: take the literal text.
            ticket_id = nz.normalize_id(raw_scalar(yaml_text, key)) or ticket_id
    if dialect == "ccpm":
        ccpm_id, ccpm_kind = _ccpm_id(PurePosixPath(rel_path))
        ticket_id = ticket_id or ccpm_id
        kind = kind or ccpm_kind
    if ticket_id is None:
        match = _NAME_ID.match(name) or re.match(r"^(?P<id>\d+)(?=\.md$)", name)
        if match:
            ticket_id = match.group("id")
            warnings.append(f"no id field: id {ticket_id!r} taken from the file name")
    if ticket_id is None:
        raise ParseError("no ticket id: no id field (id, task_id, issue_id, epic_id, pr_id) and none in the file name")

    kind = kind or _kind_from_id(ticket_id, hints) or _kind_from_folder(rel_path, hints) or Kind.TASK

    status_value = _lookup(data, meta, "state") if nz.normalize_status(data.get("state")) else None
    raw_status = status_value if status_value is not None else data.get("status")
    status = nz.normalize_status(raw_status)
    if status is None:
        if raw_status not in (None, ""):
            warnings.append(f"unknown status {str(raw_status)[:40]!r}: read as open")
        status = Status.OPEN

    raw_priority = data.get("priority")
    if raw_priority in (None, ""):
        raw_priority = _lookup(data, meta, "severity", "urgency")
    priority = nz.normalize_priority(raw_priority)
    if priority is None and raw_priority not in (None, ""):
        warnings.append(f"unknown priority {str(raw_priority)[:40]!r}: scored as medium")

    raw_assignee = data.get("assignees") if data.get("assignees") not in (None, "", []) else data.get("assignee")
    if raw_assignee in (None, "", []):
        raw_assignee = _lookup(data, meta, "owner", "assigned_to")
    assignee = nz.normalize_assignee(raw_assignee)

    title = nz.normalize_text(data.get("title") or data.get("name") or data.get("headline")) or _title_from_body(body)
    if not title:
        title = ticket_id

    limit = config.limits.max_relations
    relations, cut = _relations(data, meta, own_key, limit)
    if cut:
        warnings.append(
            f"more than {limit} references in {', '.join(cut)}: only the first {limit} kept (limits.max_relations)"
        )
    if dialect == "ccpm" and "#" in ticket_id:
        epic = ticket_id.split("#", 1)[0]
        relations = {k: [f"{epic}#{r}" if r.isdigit() else r for r in v] for k, v in relations.items()}
        relations.setdefault("epic", [epic])
    depends_on = _union(relations, DEPENDS_KEYS, ticket_id)
    blocks = _union(relations, BLOCKS_KEYS, ticket_id)
    parent = _parent(kind, relations, ticket_id)

    if "\r" in body:
        # Windows (CRLF) and old Mac (CR) line ends: the ledger keeps one form (the file is untouched),
        # and a stray CR would otherwise show as `\x0d` in every report.
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    effort = nz.normalize_effort({**meta, **data}, config.effort)
    done, total = nz.count_checkboxes(body)
    skills, skills_source = _skills(data, meta, config)
    completion = nz.normalize_percentage(
        _lookup(data, meta, "completion_percentage", "progress_percentage", "progress")
    )

    frontmatter = to_json_safe(data)
    content = frontmatter.get("content")
    if isinstance(content, str) and content.strip() == body.strip():
        # A known tool bug repeats the whole body as `content:`; the real body is kept once.
        frontmatter["content"] = "(copy of the body; not stored twice)"
    # `file_path:` (the same tool bug, an absolute path on the author's machine) is kept verbatim in the
    # frontmatter but never used: the ticket's path is where the file really is. No warning: 238 real
    # files carry it, and a warning on each would bury the ones that matter.

    ticket = Ticket(
        project=project,
        id=ticket_id,
        kind=kind,
        title=title,
        status=status,
        status_raw=None if raw_status is None else str(raw_status)[:100],
        priority=priority,
        priority_raw=None if raw_priority is None else str(raw_priority)[:100],
        assignee=assignee,
        assignee_raw=None if raw_assignee is None else str(to_json_safe(raw_assignee))[:200],
        created=nz.normalize_datetime(_lookup(data, meta, "created_date", "created_at", "created", "date")),
        updated=nz.normalize_datetime(_lookup(data, meta, "updated_date", "updated_at", "updated", "last_updated")),
        due=nz.normalize_datetime(_lookup(data, meta, "due_date", "due", "deadline", "target_date")),
        closed=nz.normalize_datetime(
            _lookup(data, meta, "completed_at", "closed_at", "completed_date", "completed", "actual_end_date")
        ),
        estimate_hours=effort.hours,
        estimate_source=effort.source,
        estimate_assumed=effort.assumed,
        actual_hours=nz.normalize_hours(_lookup(data, meta, "actual_hours", "time_spent"), config.effort),
        checklist_done=done,
        checklist_total=total,
        completion_pct=completion,
        skills=skills,
        skills_source=skills_source,
        parent=parent,
        depends_on=depends_on,
        blocks=blocks,
        relations=relations,
        business=_business(data, meta),
        dialect=dialect,
        path=abs_path,
        frontmatter=frontmatter,
        body=body,
    )
    _ = body_line
    return ReadResult(ticket=ticket, warnings=warnings)


def _union(relations: dict[str, list[str]], keys: tuple[str, ...], own_id: str) -> tuple[str, ...]:
    refs: dict[str, None] = {}
    for key in keys:
        refs.update(dict.fromkeys(relations.get(key, ())))
    refs.pop(own_id, None)
    return tuple(refs)
