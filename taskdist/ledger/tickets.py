"""Tickets and their source files in the ledger: rows in, `Ticket` records out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from taskdist.json_quote import quote_ascii
from taskdist.ledger.db import Ledger
from taskdist.timestamps import format_datetime, parse_stored_datetime
from taskdist.typing_free import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

    from taskdist.models import Ticket

# Columns compared to decide whether a re-read ticket changed (and named in the `updated` event).
COMPARED_COLUMNS = (
    "kind",
    "title",
    "status",
    "status_raw",
    "priority",
    "priority_raw",
    "assignee",
    "assignee_raw",
    "created",
    "updated",
    "due",
    "closed",
    "estimate_hours",
    "estimate_source",
    "estimate_assumed",
    "actual_hours",
    "checklist_done",
    "checklist_total",
    "completion_pct",
    "skills",
    "skills_source",
    "parent",
    "depends_on",
    "blocks",
    "business",
    "dialect",
    "path",
)
TEXT_COLUMNS = ("body", "frontmatter", "relations")
_UPDATED = COMPARED_COLUMNS.index("updated")


class FileState(NamedTuple):
    """What the ledger remembers of one source file, to skip it cheaply when unchanged.

    (Named tuples and plain classes here, not dataclasses: see `taskdist.config`.)
    """

    path: str
    project: str
    rel_path: str
    state: str  # ticket | duplicate | error | skipped | missing
    ticket_id: str | None
    updated: str | None
    demoted: bool
    size: int
    mtime_ns: int
    content_hash: str | None
    reason: str | None
    line: int | None
    warnings: list[str]


# One encoder for every stored JSON value: `json.dumps` with options builds a new encoder per call,
# and so does `JSONEncoder.encode` (its C part, a third of each call): the C part is built once, on
# first use (importing json costs a re-import that writes nothing 4.5 ms: see taskdist.json_quote).
# Without the circular-reference check: every value stored is a tree (parsed YAML made JSON-safe,
# or lists and dicts of our own).
_ENCODER: Any = None  # json.JSONEncoder(sort_keys=True, ensure_ascii=False), once built
_C_ENCODE: Any = None  # its C part, or None without the C accelerator


def _build_encoders() -> None:
    global _ENCODER, _C_ENCODE
    import json

    encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
    make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_c_encoder is not None:
        _C_ENCODE = make_c_encoder(
            None, encoder.default, json.encoder.encode_basestring, None, ": ", ", ", True, False, True
        )
    _ENCODER = encoder


def _dumps(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, ensure_ascii=False)`, faster."""
    if _ENCODER is None:
        _build_encoders()
    if type(value) is list or type(value) is dict:
        if not value:
            return "[]" if type(value) is list else "{}"
        if _C_ENCODE is not None:
            return "".join(_C_ENCODE(value, 0))
    return _ENCODER.encode(value)  # type: ignore[no-any-return]


def ticket_values(ticket: Ticket) -> tuple[Any, ...]:
    """The `tickets` columns compared for change (without file bookkeeping), in `COMPARED_COLUMNS` order."""
    return (
        ticket.kind.value,
        ticket.title,
        ticket.status.value,
        ticket.status_raw,
        ticket.priority.value if ticket.priority else None,
        ticket.priority_raw,
        ticket.assignee,
        ticket.assignee_raw,
        format_datetime(ticket.created),
        format_datetime(ticket.updated),
        format_datetime(ticket.due),
        format_datetime(ticket.closed),
        float(ticket.estimate_hours),
        ticket.estimate_source,
        int(ticket.estimate_assumed),
        ticket.actual_hours,
        ticket.checklist_done,
        ticket.checklist_total,
        ticket.completion_pct,
        _dumps(list(ticket.skills)),
        ticket.skills_source,
        ticket.parent,
        _dumps(list(ticket.depends_on)),
        _dumps(list(ticket.blocks)),
        _dumps(ticket.business),
        ticket.dialect,
        ticket.path,
    )


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    """The `tickets` columns compared for change (without file bookkeeping)."""
    return dict(zip(COMPARED_COLUMNS, ticket_values(ticket), strict=True))


def text_values(ticket: Ticket) -> tuple[str, str, str]:
    """The `ticket_text` columns, in `TEXT_COLUMNS` order."""
    return (ticket.body, _dumps(ticket.frontmatter), _dumps(ticket.relations))


def text_row(ticket: Ticket) -> dict[str, Any]:
    return dict(zip(TEXT_COLUMNS, text_values(ticket), strict=True))


class TicketRecord(NamedTuple):
    """A parsed ticket as the ledger stores it, built where the file is parsed (a worker process):
    the importer then only compares and writes, and a worker sends back tuples, not a `Ticket`."""

    project: str
    id: str
    updated: str | None
    path: str
    values: tuple[Any, ...]  # COMPARED_COLUMNS order
    text: tuple[str, str, str]  # TEXT_COLUMNS order

    def row(self) -> dict[str, Any]:
        return dict(zip(COMPARED_COLUMNS, self.values, strict=True))

    def text_row(self) -> dict[str, Any]:
        return dict(zip(TEXT_COLUMNS, self.text, strict=True))


def record_of(ticket: Ticket) -> TicketRecord:
    values = ticket_values(ticket)
    return TicketRecord(ticket.project, ticket.id, values[_UPDATED], ticket.path, values, text_values(ticket))


def ticket_from_row(row: dict[str, Any], text: dict[str, Any] | None = None) -> Ticket:
    """Rebuild a `Ticket` from a `tickets` row (and optionally its `ticket_text` row)."""
    import json  # the models and json's decoder: not needed by a re-import that reads nothing

    from taskdist.models import Kind, Priority, Status, Ticket

    return Ticket(
        project=row["project"],
        id=row["id"],
        kind=Kind(row["kind"]),
        title=row["title"],
        status=Status(row["status"]),
        status_raw=row["status_raw"],
        priority=Priority(row["priority"]) if row["priority"] else None,
        priority_raw=row["priority_raw"],
        assignee=row["assignee"],
        assignee_raw=row["assignee_raw"],
        created=parse_stored_datetime(row["created"]),
        updated=parse_stored_datetime(row["updated"]),
        due=parse_stored_datetime(row["due"]),
        closed=parse_stored_datetime(row["closed"]),
        estimate_hours=row["estimate_hours"],
        estimate_source=row["estimate_source"],
        estimate_assumed=bool(row["estimate_assumed"]),
        actual_hours=row["actual_hours"],
        checklist_done=row["checklist_done"],
        checklist_total=row["checklist_total"],
        completion_pct=row["completion_pct"],
        skills=tuple(json.loads(row["skills"])),
        skills_source=row["skills_source"],
        parent=row["parent"],
        depends_on=tuple(json.loads(row["depends_on"])),
        blocks=tuple(json.loads(row["blocks"])),
        business=json.loads(row["business"]),
        dialect=row["dialect"],
        path=row["path"],
        relations=json.loads(text["relations"]) if text else {},
        frontmatter=json.loads(text["frontmatter"]) if text else {},
        body=text["body"] if text else "",
    )


def file_states(ledger: Ledger, project: str) -> dict[str, FileState]:
    """Every source file the ledger knows for `project`, by absolute path."""
    rows = ledger.conn.execute(
        "SELECT path, rel_path, state, ticket_id, updated, demoted, size, mtime_ns, content_hash, "
        "reason, line, warnings <> '[]' FROM files WHERE project = ?",
        (project,),
    ).fetchall()
    # One comprehension over fetched rows (about 5% faster than a loop over the cursor); the project
    # is known, not a column to fetch again for every row.
    states = {
        r[0]: FileState(r[0], project, r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9], r[10], [])
        for r in rows
    }
    if any(r[11] for r in rows):
        # Almost every file has no warning. Those that have are decoded by SQLite's JSON functions: json's
        # decoder would cost a re-import that reads nothing 4.5 ms of imports (see taskdist.json_quote).
        for path, warning in ledger.conn.execute(
            "SELECT f.path, w.value FROM files AS f, json_each(f.warnings) AS w "
            "WHERE f.project = ? AND f.warnings <> '[]' ORDER BY f.path, w.key",
            (project,),
        ):
            states[path].warnings.append(warning)
    return states


# The `files` columns are FileState's fields, in its order (warnings last: they are stored as JSON).
_SAVE_FILE_STATE = (
    f"INSERT INTO files ({', '.join(FileState._fields)}) VALUES ({','.join('?' * len(FileState._fields))}) "
    "ON CONFLICT(path) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in FileState._fields if c != "path")
)


def save_file_states(ledger: Ledger, states: Iterable[FileState]) -> None:
    # Each state as it is but its warnings (sqlite3 stores the bool `demoted` as 0 or 1).
    ledger.conn.executemany(_SAVE_FILE_STATE, [(*s[:-1], _dumps(s.warnings)) for s in states])


def ticket_ids(ledger: Ledger, project: str) -> set[str]:
    """Every ticket id of a project."""
    return {r[0] for r in ledger.conn.execute("SELECT id FROM tickets WHERE project = ?", (project,))}


def stored_rows(ledger: Ledger, project: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current `tickets` rows for some ids of a project (chunked to stay under SQLite's variable cap).

    `outcome_file_status` is what the file said when an outcome command (start, done, fail) set the
    ledger's status, or None without such an outcome (see the `tickets_keep_outcome` trigger).
    """
    wanted = list(ids)
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = ledger.conn.execute(
            "SELECT t.*, o.file_status AS outcome_file_status FROM tickets t "
            "LEFT JOIN status_overrides o ON o.project = t.project AND o.id = t.id "
            f"WHERE t.project = ? AND t.id IN ({marks})",
            (project, *chunk),
        )
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            rows[row["id"]] = row
    return rows


def stored_texts(ledger: Ledger, project: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current `ticket_text` rows (body, frontmatter, relations) for some ids of a project."""
    wanted = list(ids)
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = ledger.conn.execute(
            f"SELECT id, body, frontmatter, relations FROM ticket_text WHERE project = ? AND id IN ({marks})",
            (project, *chunk),
        )
        for r in cursor:
            rows[r[0]] = {"body": r[1], "frontmatter": r[2], "relations": r[3]}
    return rows


_BOOKKEEPING = ("content_hash", "size", "mtime_ns", "missing", "read_error", "imported_at")
# An upsert, not INSERT OR REPLACE: a rewrite of a known ticket is an UPDATE setting `imported_at`,
# which fires the keep-triggers (migration 0006); a new ticket is a plain insert and fires none.
_INSERT_TICKET = (
    f"INSERT INTO tickets (project, id, {', '.join(COMPARED_COLUMNS)}, {', '.join(_BOOKKEEPING)}) "
    f"VALUES ({','.join('?' * (2 + len(COMPARED_COLUMNS) + len(_BOOKKEEPING)))}) "
    "ON CONFLICT (project, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*COMPARED_COLUMNS, *_BOOKKEEPING))
)
_INSERT_TEXT = "INSERT OR REPLACE INTO ticket_text (project, id, body, frontmatter, relations) VALUES (?,?,?,?,?)"


class TicketWrites:
    """Ticket rows, flags and events gathered during an import, written by `flush` in a few
    `executemany` calls (one `execute` per row was a third of a cold 100k import)."""

    __slots__ = ("events", "flags", "texts", "tickets")

    def __init__(self) -> None:
        self.tickets: list[tuple[Any, ...]] = []
        self.texts: list[tuple[Any, ...]] = []
        self.flags: list[tuple[Any, ...]] = []
        self.events: list[tuple[str, str, str | None, str | None, str]] = []

    def ticket(self, record: TicketRecord, *, content_hash: str, size: int, mtime_ns: int, imported_at: str) -> None:
        """Insert or replace a ticket's row and text."""
        self.tickets.append(
            (record.project, record.id, *record.values, content_hash, size, mtime_ns, 0, None, imported_at)
        )
        self.texts.append((record.project, record.id, *record.text))

    def flag(self, project: str, ticket_id: str, *, missing: bool, read_error: str | None) -> None:
        """Mark a ticket whose file is gone (`missing`) or unreadable (`read_error`); its last good version stays."""
        self.flags.append((int(missing), read_error, project, ticket_id))

    def event(self, at: str, kind: str, project: str | None, ticket: str | None, data: str) -> None:
        """Append an event (`data` already JSON, as `Ledger.add_event` writes it); kept in order."""
        self.events.append((at, kind, project, ticket, data))

    def flush(self, ledger: Ledger) -> None:
        """Write everything gathered (inside `writing()`), then forget it."""
        conn = ledger.conn
        if self.tickets:
            conn.executemany(_INSERT_TICKET, self.tickets)
            conn.executemany(_INSERT_TEXT, self.texts)
        if self.flags:
            conn.executemany("UPDATE tickets SET missing = ?, read_error = ? WHERE project = ? AND id = ?", self.flags)
        if self.events:
            run_id = ledger.ensure_run()
            conn.executemany(
                "INSERT INTO events (at, run_id, kind, project, ticket, agent, data) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                [(at, run_id, kind, project, ticket, data) for at, kind, project, ticket, data in self.events],
            )
        self.tickets, self.texts, self.flags, self.events = [], [], [], []


def log_imported(ledger: Ledger, project: str, at: str) -> None:
    """An `imported` event for every ticket of `project`, in id order: a project's first import.

    The data is what the importer writes for one ticket (`{"path": ...}` as `json.dumps` gives it,
    through the same function), so both ways give the same rows.
    """
    ledger.conn.create_function("json_text", 1, quote_ascii, deterministic=True)  # a C call a row
    ledger.conn.execute(
        "INSERT INTO events (at, run_id, kind, project, ticket, agent, data) "
        """SELECT ?, ?, 'imported', project, id, NULL, '{"path": ' || json_text(path) || '}' """
        "FROM tickets WHERE project = ? ORDER BY id",
        (at, ledger.ensure_run(), project),
    )


def write_ticket(
    ledger: Ledger, ticket: Ticket, *, content_hash: str, size: int, mtime_ns: int, imported_at: str, exists: bool
) -> None:
    """Insert or replace one ticket's row and text (inside `writing()`); the importer writes in bulk."""
    writes = TicketWrites()
    writes.ticket(record_of(ticket), content_hash=content_hash, size=size, mtime_ns=mtime_ns, imported_at=imported_at)
    writes.flush(ledger)
    _ = exists


def project_record(ledger: Ledger, project: str) -> tuple[str, str | None] | None:
    """The folder a project was last imported from and the reading settings used then (None: a new project)."""
    row = ledger.conn.execute("SELECT root, reader_settings FROM projects WHERE name = ?", (project,)).fetchone()
    return None if row is None else (row[0], row[1])


def record_project(ledger: Ledger, project: str, root: str, reader_settings: str, now: str) -> None:
    """Insert the project, or update its folder and reading settings where they changed."""
    ledger.conn.execute(
        "INSERT INTO projects (name, root, first_imported, reader_settings) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET root = excluded.root, reader_settings = excluded.reader_settings "
        "WHERE root != excluded.root OR reader_settings IS NOT excluded.reader_settings",
        (project, root, now, reader_settings),
    )


def replace_import_problems(
    ledger: Ledger, project: str, problems: Iterable[tuple[str, int | None, str, str]], run_id: int
) -> None:
    """The current set of read problems for a project: (path, line, reason, severity)."""
    ledger.conn.execute("DELETE FROM import_errors WHERE project = ?", (project,))
    ledger.conn.executemany(
        "INSERT INTO import_errors (path, project, line, reason, severity, run_id) VALUES (?,?,?,?,?,?)",
        [(path, project, line, reason, severity, run_id) for path, line, reason, severity in problems],
    )


def current_problems(ledger: Ledger, project: str) -> set[tuple[str, int | None, str, str]]:
    cursor = ledger.conn.execute("SELECT path, line, reason, severity FROM import_errors WHERE project = ?", (project,))
    return {(r[0], r[1], r[2], r[3]) for r in cursor}


# The tables an import fills, whose secondary indexes a first import builds once at the end.
_BULK_TABLES = ("tickets", "ticket_text", "files", "events")


def defer_indexes_if_empty(ledger: Ledger) -> list[str]:
    """Into a ledger without any ticket, drop the secondary indexes of the tables an import fills and
    return their SQL for `restore_indexes`; else do nothing and return [].

    Inserting 100,000 tickets with the indexes in place costs about a second more of the main
    process's CPU than building each index once at the end. Both happen inside the import's
    transaction: if it rolls back, so do the dropped indexes. Only for an empty ledger, because
    rebuilding an index covers every row of its table, not just the new ones.
    """
    if ledger.conn.execute("SELECT EXISTS (SELECT 1 FROM tickets)").fetchone()[0]:
        return []
    marks = ",".join("?" * len(_BULK_TABLES))
    rows = ledger.conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks}) "
        "ORDER BY name",
        _BULK_TABLES,
    ).fetchall()
    for name, _sql in rows:
        ledger.conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


def restore_indexes(ledger: Ledger, definitions: list[str]) -> None:
    """Create again the indexes `defer_indexes_if_empty` dropped, from their own SQL."""
    for sql in definitions:
        ledger.conn.execute(sql)


def count_tickets(ledger: Ledger, projects: Iterable[str]) -> int:
    names = list(projects)
    if not names:
        return 0
    marks = ",".join("?" * len(names))
    row = ledger.conn.execute(f"SELECT count(*) FROM tickets WHERE project IN ({marks})", names).fetchone()
    return int(row[0])


def iter_tickets(
    ledger: Ledger,
    *,
    project: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    kind: str | None = None,
    with_text: bool = False,
    ticket_id: str | None = None,
) -> Iterator[Ticket]:
    """Tickets matching the filters, ordered by project and id."""
    clauses, params = [], []
    filters = (
        ("t.project", project),
        ("t.status", status),
        ("t.assignee", assignee),
        ("t.kind", kind),
        ("t.id", ticket_id),
    )
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    select = "t.*, x.body AS x_body, x.frontmatter AS x_frontmatter, x.relations AS x_relations" if with_text else "t.*"
    join = "LEFT JOIN ticket_text x ON x.project = t.project AND x.id = t.id" if with_text else ""
    cursor = ledger.conn.execute(f"SELECT {select} FROM tickets t {join} {where} ORDER BY t.project, t.id", params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        text = None
        if with_text:
            text = {
                "body": row["x_body"] or "",
                "frontmatter": row["x_frontmatter"] or "{}",
                "relations": row["x_relations"] or "{}",
            }
        yield ticket_from_row(row, text)


def ticket_flags(ledger: Ledger, project: str, ticket_id: str) -> dict[str, Any]:
    """Bookkeeping columns of one ticket (missing, read_error, hash, size, mtime, imported_at)."""
    row = ledger.conn.execute(
        "SELECT missing, read_error, content_hash, size, mtime_ns, imported_at FROM tickets "
        "WHERE project = ? AND id = ?",
        (project, ticket_id),
    ).fetchone()
    if row is None:
        return {}
    return dict(zip(("missing", "read_error", "content_hash", "size", "mtime_ns", "imported_at"), row, strict=True))


def find_ticket_keys(ledger: Ledger, ticket_id: str, project: str | None = None) -> list[tuple[str, str]]:
    """(project, id) pairs for an id, exact match first, else case-insensitive."""
    if project is not None:
        rows = ledger.conn.execute(
            "SELECT project, id FROM tickets WHERE project = ? AND id = ?", (project, ticket_id)
        ).fetchall()
        if not rows:
            rows = ledger.conn.execute(
                "SELECT project, id FROM tickets WHERE project = ? AND id = ? COLLATE NOCASE", (project, ticket_id)
            ).fetchall()
    else:
        rows = ledger.conn.execute("SELECT project, id FROM tickets WHERE id = ?", (ticket_id,)).fetchall()
        if not rows:
            rows = ledger.conn.execute(
                "SELECT project, id FROM tickets WHERE id = ? COLLATE NOCASE", (ticket_id,)
            ).fetchall()
    return [(r[0], r[1]) for r in rows]


def project_names(ledger: Ledger) -> list[str]:
    return [r[0] for r in ledger.conn.execute("SELECT name FROM projects ORDER BY name")]


def import_problems(ledger: Ledger, projects: Iterable[str]) -> list[dict[str, Any]]:
    names = list(projects)
    if not names:
        return []
    marks = ",".join("?" * len(names))
    cursor = ledger.conn.execute(
        f"SELECT path, line, reason, severity, project FROM import_errors WHERE project IN ({marks}) "
        "ORDER BY project, path, severity",
        names,
    )
    return [{"path": r[0], "line": r[1], "reason": r[2], "severity": r[3], "project": r[4]} for r in cursor]
