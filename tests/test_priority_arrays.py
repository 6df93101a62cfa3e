"""The fast column loader gives exactly the columns built from `Ticket` records."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from taskdist.config import Config, Source
from taskdist.importer import import_sources
from taskdist.ledger import tickets as store
from taskdist.ledger.arrays import load_ticket_arrays
from taskdist.ledger.db import open_ledger
from taskdist.ticket_arrays import TicketArrays
from tests.conftest import NOW, SAMPLE


def test_ledger_columns_equal_columns_from_records(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "l.db", create=True)
    try:
        import_sources(ledger, [Source(path=str(SAMPLE))], Config(), NOW)
        loaded = load_ticket_arrays(ledger)
        records = list(store.iter_tickets(ledger))
        flags = {(p, i): bool(m) for p, i, m in ledger.conn.execute("SELECT project, id, missing FROM tickets")}
    finally:
        ledger.close()
    built = TicketArrays.from_tickets(records, missing=[flags[t.key] for t in records])
    assert len(loaded) == len(built) > 40
    for name in (f.name for f in fields(TicketArrays)):
        mine, theirs = getattr(loaded, name), getattr(built, name)
        if isinstance(theirs, np.ndarray):
            assert np.array_equal(mine, theirs, equal_nan=theirs.dtype.kind == "f"), name
            assert mine.dtype == theirs.dtype, name
        else:
            assert list(mine) == list(theirs), name
    assert loaded.completion.max() <= 1.0 and loaded.work_item.sum() < len(loaded)


def test_empty_ledger_loads(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "l.db", create=True)
    try:
        assert len(load_ticket_arrays(ledger)) == 0
    finally:
        ledger.close()


@pytest.mark.parametrize("in_transaction", [False, True])
def test_loading_inside_a_write_transaction_does_not_commit_it(tmp_path: Path, in_transaction: bool) -> None:
    ledger = open_ledger(tmp_path / "l.db", create=True)
    try:
        import_sources(ledger, [Source(path=str(SAMPLE))], Config(), NOW)
        if in_transaction:
            with ledger.writing("test", NOW):
                ledger.ensure_run()
                assert len(load_ticket_arrays(ledger)) > 40
                assert ledger.conn.in_transaction
        else:
            assert len(load_ticket_arrays(ledger)) > 40
            assert not ledger.conn.in_transaction
    finally:
        ledger.close()


def test_every_status_kind_and_label_survives_the_packed_codes(tmp_path: Path) -> None:
    from itertools import product

    from taskdist.ledger.arrays import KINDS, LABELS, STATUSES, _word_key
    from taskdist.models import Kind, Priority, Status
    from tests.priority_tools import ticket

    for words in (KINDS, STATUSES, LABELS):
        assert len({_word_key(w) for w in words}) == len(words)  # the keys must tell the words apart
    combos = list(product(list(Kind), list(Status), [None, *Priority], [False, True]))
    records = [
        ticket(
            f"T-{n}",
            kind=kind,
            status=status,
            priority=label,
            skills=("python",),
            skills_source="explicit" if flag else "tags",
            estimate_assumed=flag,
        )
        for n, (kind, status, label, flag) in enumerate(combos)
    ]
    ledger = open_ledger(tmp_path / "l.db", create=True)
    try:
        with ledger.writing("test", NOW):
            for record in records:
                store.write_ticket(
                    ledger,
                    record,
                    content_hash="x",
                    size=1,
                    mtime_ns=1,
                    imported_at="2026-11-22T09:00:00Z",
                    exists=False,
                )
            ledger.conn.execute("UPDATE tickets SET missing = 1 WHERE id LIKE 'T-1%'")
        loaded = load_ticket_arrays(ledger)
    finally:
        ledger.close()
    built = TicketArrays.from_tickets(records, missing=[r.id.startswith("T-1") for r in records])
    for name in ("kind", "status", "label"):
        assert getattr(loaded, name) == getattr(built, name)
    for name in (
        "work_item",
        "closed",
        "status_blocked",
        "missing",
        "priority_level",
        "skills_explicit",
        "estimate_assumed",
    ):
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
