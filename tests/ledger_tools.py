"""Helpers for tests that compare whole ledgers and hold the write lock from another process."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

HOLD_LOCK_SCRIPT = """
import sys, time
from datetime import datetime, UTC
from pathlib import Path
from taskdist.ledger.db import open_ledger
ledger = open_ledger(Path(sys.argv[1]), create=True)
with ledger.writing("test-hold", datetime.now(UTC)):
    ledger.ensure_run()
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def dump(db_path: Path, skip_tables: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal dumps mean equal ledger content."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        result = {}
        for table in tables:
            if table in skip_tables or table == "_sqlite_migrations":
                continue
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        conn.close()


def integrity(db_path: Path) -> str:
    conn = sqlite3.connect(str(db_path))
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def write_tickets(folder: Path, count: int, *, prefix: str = "TSK") -> None:
    """`count` small dialect-A tickets with a dependency chain, enough to make an import take a while."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        dep = f"[{prefix}-{n - 1:05d}]" if n > 1 and n % 5 else "[]"
        (folder / f"{prefix}-{n:05d}.md").write_text(
            f"---\ntask_id: {prefix}-{n:05d}\nissue_id: ISS-0001\ntitle: Task number {n}\nstatus: open\n"
            f"priority: {['low', 'medium', 'high', 'critical'][n % 4]}\nassignee: unassigned\n"
            f"created_date: 2026-11-01T10:00:00.000Z\ndue_date: 2026-12-{1 + n % 28:02d}\n"
            f"time_estimate: {1 + n % 7}h\ntags: [python, backend]\ndependencies: {dep}\n---\n\n"
            f"# Task: Task number {n}\n\n- [ ] first\n- [x] second\n",
            encoding="utf-8",
        )
