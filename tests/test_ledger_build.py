"""A new ledger is built under a private name and appears whole, or not at all."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from taskdist.cli.importing import run_import
from taskdist.ledger.db import LedgerAppeared, building_ledger, open_ledger
from tests.conftest import NOW_TEXT, run_cli
from tests.ledger_tools import write_tickets


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _count(db: Path, sql: str) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_the_ledger_appears_only_when_built_and_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "state" / "ledger.db"
    with building_ledger(db) as ledger:
        assert not db.exists()  # nobody sees a half-built ledger
        (private,) = _listing(db.parent)
        assert private == f".ledger.db.building-{os.getpid()}"
        ledger.conn.execute("CREATE TABLE probe AS SELECT 'built' AS owner")
        ledger.conn.commit()
    assert _listing(db.parent) == ["ledger.db"]
    assert _count(db, "PRAGMA journal_mode") == "wal"
    assert _count(db, "SELECT owner FROM probe") == "built"
    assert _count(db, "PRAGMA integrity_check") == "ok"


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    db = tmp_path / "state" / "ledger.db"
    with pytest.raises(RuntimeError), building_ledger(db):
        raise RuntimeError("the import failed")
    assert not (tmp_path / "state").exists()  # nor the folder made for it
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(RuntimeError), building_ledger(kept / "ledger.db"):
        raise RuntimeError("the import failed")
    assert kept.is_dir() and _listing(kept) == []  # a folder that was there stays


def test_a_ledger_made_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    with pytest.raises(LedgerAppeared), building_ledger(db) as ledger:
        ledger.conn.execute("CREATE TABLE probe AS SELECT 'mine' AS owner")
        ledger.conn.commit()
        other = open_ledger(db, create=True)
        other.conn.execute("CREATE TABLE probe AS SELECT 'theirs' AS owner")
        other.conn.commit()
        other.close()
    assert _count(db, "SELECT owner FROM probe") == "theirs"
    assert [name for name in _listing(tmp_path) if "building" in name] == []


def test_without_hard_links_the_ledger_is_renamed_into_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    db = tmp_path / "ledger.db"
    with building_ledger(db) as ledger:
        ledger.conn.execute("CREATE TABLE probe AS SELECT 'built' AS owner")
        ledger.conn.commit()
    assert _listing(tmp_path) == ["ledger.db"]
    assert _count(db, "SELECT owner FROM probe") == "built"
    # Even then, a ledger that appeared meanwhile is not replaced.
    with pytest.raises(LedgerAppeared), building_ledger(db):
        pass
    assert _count(db, "SELECT owner FROM probe") == "built"
    assert _listing(tmp_path) == ["ledger.db"]


def test_builds_abandoned_by_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not _alive(pid))
    for name in (f".ledger.db.building-{dead}", f".ledger.db.building-{dead}-journal", ".ledger.db.building-1"):
        (tmp_path / name).write_bytes(b"left over")
    with building_ledger(tmp_path / "ledger.db"):
        pass
    # Process 1 is alive: its build (were it one) is not ours to remove.
    assert _listing(tmp_path) == [".ledger.db.building-1", "ledger.db"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def test_a_first_import_racing_another_goes_into_the_ledger_that_won(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import taskdist.importer

    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    write_tickets(mine, 3, prefix="MIN")
    write_tickets(theirs, 2, prefix="THR")
    db = tmp_path / "ledger.db"
    real_import = taskdist.importer.import_sources
    calls: list[str] = []

    def import_while_another_publishes(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0].path))
        if len(calls) == 1:  # the other command finishes first
            assert run_cli("import", str(theirs), "--db", str(db), "--now", NOW_TEXT).exit_code == 0
        return real_import(*args, **kwargs)

    monkeypatch.setattr(taskdist.importer, "import_sources", import_while_another_publishes)
    run_import([str(mine)], db=str(db), now=NOW_TEXT, fmt="json", quiet=True)
    assert calls == [str(db), str(db)]  # built aside, then imported into the ledger that appeared
    assert '"imported": 3' in capsys.readouterr().out
    projects = "SELECT group_concat(project || ':' || n) FROM (SELECT project, count(*) n FROM tickets GROUP BY 1)"
    assert _count(db, projects) == "mine:3,theirs:2"
    assert [name for name in _listing(tmp_path) if "building" in name] == []
