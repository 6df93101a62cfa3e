"""Loading the priority engine's columns fast (no bodies, no frontmatter).

At 100,000 tickets the cost is creating Python objects, not reading SQLite, so: numbers and codes
come in one query straight into a float matrix (SQLite turns timestamps into seconds and the few
status, kind and priority words into integer keys); text comes in a second query; the project
column is rebuilt from per-project counts; and the JSON columns (skills, relations, business facts)
are decoded once per distinct text, all in one parser call. Both queries read one snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.gc_pause import paused_gc
from taskdist.ledger.db import Ledger
from taskdist.models import Kind, Priority, Status
from taskdist.ticket_arrays import WORK_KINDS, TicketArrays

KINDS = tuple(k.value for k in Kind)
STATUSES = tuple(s.value for s in Status)
LABELS = (Priority.LOW.value, Priority.MEDIUM.value, Priority.HIGH.value, Priority.CRITICAL.value)


def _word_key(word: str) -> int:
    """What SQLite computes below for a word: its first letter's code x 16 + its length."""
    return ord(word[0]) * 16 + len(word)


def _lookup(words: tuple[str, ...], default: int) -> npt.NDArray[np.int64]:
    """A table from `_word_key` to the word's index; the words' keys must differ (tested)."""
    table = np.full(128 * 16, default, dtype=np.int64)
    for index, word in enumerate(words):
        table[_word_key(word)] = index
    return table


KIND_OF = _lookup(KINDS, KINDS.index(Kind.TASK.value))
STATUS_OF = _lookup(STATUSES, STATUSES.index(Status.OPEN.value))
LABEL_OF = _lookup(LABELS, -1)

# Every value converted to a Python object costs about as much as SQLite's whole work on it, and a
# CASE over the words costs more than the row: so status, kind and priority travel as
# `unicode(word) * 16 + length(word)` (distinct for every word of each vocabulary), packed with
# three flags into one integer: 11 bits each, then explicit skills, missing, assumed estimate.
_NUMBERS = """
SELECT unixepoch(COALESCE(created, updated)), unixepoch(due), estimate_hours,
       COALESCE(completion_pct / 100.0,
                CASE WHEN checklist_total > 0 THEN 1.0 * checklist_done / checklist_total ELSE 0.0 END),
       (unicode(status) * 16 + length(status))
       + 2048 * (unicode(kind) * 16 + length(kind))
       + 4194304 * IFNULL(unicode(priority) * 16 + length(priority), 0)
       + 8589934592 * ((skills_source = 'explicit') + 2 * missing + 4 * estimate_assumed)
FROM tickets ORDER BY project, id
"""
# Empty lists and mappings come back as NULL: None costs nothing to create, a string does.
_TEXTS = (
    "SELECT id, title, assignee, due, NULLIF(skills, '[]'), NULLIF(depends_on, '[]'), NULLIF(blocks, '[]'), "
    "NULLIF(business, '{}') FROM tickets ORDER BY project, id"
)
_PROJECTS = "SELECT project, count(*) FROM tickets GROUP BY project ORDER BY project"


def load_ticket_arrays(ledger: Ledger) -> TicketArrays:
    """Every ticket of the ledger as columns, in (project, id) order.

    Rows share decoded values: equal JSON texts give the same (read-only) tuple or dict object.
    """
    with _snapshot(ledger), paused_gc(freeze=True):
        return _load(ledger)


@contextmanager
def _snapshot(ledger: Ledger) -> Iterator[None]:
    """One read transaction, so a concurrent writer cannot change the rows between the queries."""
    if ledger.conn.in_transaction:
        yield
        return
    ledger.conn.execute("BEGIN")
    try:
        yield
    finally:
        ledger.conn.execute("COMMIT")


def _load(ledger: Ledger) -> TicketArrays:
    conn = ledger.conn
    numbers = np.array(conn.execute(_NUMBERS).fetchall(), dtype=np.float64)
    if not len(numbers):
        return TicketArrays.from_tickets([])
    texts = conn.execute(_TEXTS).fetchall()
    projects: list[str] = []
    for name, count in conn.execute(_PROJECTS):
        projects.extend([name] * count)
    ids, title, assignee, due_text, skills, depends_on, blocks, business = zip(*texts, strict=True)
    del texts
    lists = {*skills, *depends_on, *blocks}
    lists.discard(None)
    mappings = set(business)
    mappings.discard(None)
    decoded = _decode_all(lists | mappings)
    empty: tuple[str, ...] = ()
    tuples: dict[str | None, tuple[str, ...]] = {text: tuple(decoded[text]) for text in lists}
    tuples[None] = empty
    facts: dict[str | None, dict[str, Any]] = {text: decoded[text] for text in mappings}
    facts[None] = {}

    packed = numbers[:, 4].astype(np.int64)
    status_code = STATUS_OF[packed & 2047]
    kind_code = KIND_OF[(packed >> 11) & 2047]
    level = LABEL_OF[(packed >> 22) & 2047].astype(np.int8)
    flags = packed >> 33
    work = np.array([k in WORK_KINDS for k in KINDS], dtype=bool)
    closed = np.array([Status(s).is_closed for s in STATUSES], dtype=bool)
    labels: tuple[str | None, ...] = (*LABELS, None)  # index -1 -> None
    return TicketArrays(
        project=projects,
        id=list(ids),
        title=list(title),
        kind=list(map(KINDS.__getitem__, kind_code.tolist())),
        status=list(map(STATUSES.__getitem__, status_code.tolist())),
        label=list(map(labels.__getitem__, level.tolist())),
        assignee=list(assignee),
        due_text=list(due_text),
        work_item=work[kind_code],
        closed=closed[status_code],
        status_blocked=status_code == STATUSES.index(Status.BLOCKED.value),
        missing=(flags & 2) != 0,
        priority_level=level,
        created=np.ascontiguousarray(numbers[:, 0]),
        due=np.ascontiguousarray(numbers[:, 1]),
        estimate_hours=np.ascontiguousarray(numbers[:, 2]),
        estimate_assumed=(flags & 4) != 0,
        completion=np.clip(np.nan_to_num(numbers[:, 3], nan=0.0), 0.0, 1.0),
        skills=list(map(tuples.__getitem__, skills)),
        skills_explicit=(flags & 1) != 0,
        depends_on=list(map(tuples.__getitem__, depends_on)),
        blocks=list(map(tuples.__getitem__, blocks)),
        business=list(map(facts.__getitem__, business)),
    )


def _decode_all(texts: set[str | None]) -> dict[str, Any]:
    """Decode many small JSON texts with one parser call (one call per text costs ~10x more)."""
    ordered = [t for t in texts if t is not None]
    values = json.loads("[" + ",".join(ordered) + "]")
    return dict(zip(ordered, values, strict=True))
