"""One writer at a time, readers never blocked, and crash consistency under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import NOW_TEXT, ROOT, run_cli
from tests.ledger_tools import HOLD_LOCK_SCRIPT, dump, integrity, write_tickets


def _hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK_SCRIPT, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_gives_up_with_exit_75_and_readers_still_answer(tmp_path: Path) -> None:
    tickets = tmp_path / "tickets"
    write_tickets(tickets, 5)
    db = tmp_path / "ledger.db"
    assert run_cli("import", str(tickets), "--db", str(db), "--now", NOW_TEXT).exit_code == 0
    (tmp_path / "taskdist.yaml").write_text("ledger:\n  lock_timeout_seconds: 0.5\n", encoding="utf-8")
    holder = _hold_lock(db, 20)
    try:
        started = time.monotonic()
        second = run_cli("import", str(tickets), "--db", str(db), "--now", NOW_TEXT, cwd=tmp_path)
        waited = time.monotonic() - started
        assert second.exit_code == 75, second.stderr
        assert second.stderr.startswith("Error: another taskdist command is writing to the ledger")
        assert waited < 15
        reader = run_cli("tickets", "--db", str(db), "--format", "json", cwd=tmp_path)
        assert reader.exit_code == 0, reader.stderr
        assert '"TSK-00005"' in reader.stdout
    finally:
        holder.kill()
        holder.wait()
    assert integrity(db) == "ok"


@pytest.mark.slow
def test_import_killed_at_random_moments_leaves_before_or_after(tmp_path: Path) -> None:
    tickets = tmp_path / "tickets"
    write_tickets(tickets, 600)
    reference = tmp_path / "reference.db"
    assert run_cli("import", str(tickets), "--db", str(reference), "--now", NOW_TEXT, "-q").exit_code == 0
    expected = dump(reference)

    db = tmp_path / "ledger.db"
    rng = random.Random(20261122)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "taskdist", "import", str(tickets), "--db", str(tmp_path / "t.db"), "-q"],
        check=True,
        env=env,
        capture_output=True,
    )
    full = time.monotonic() - started
    kills = 0
    for _attempt in range(50):
        proc = subprocess.Popen(
            [sys.executable, "-m", "taskdist", "import", str(tickets), "--db", str(db), "--now", NOW_TEXT, "-q"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.0, full * 1.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if db.exists():
            assert integrity(db) == "ok"
            state = dump(db)
            # Before the run (empty or absent tables) or exactly after it: never in between.
            assert state.get("tickets", []) in ([], expected["tickets"])
        if db.exists() and dump(db) == expected:
            # Completed once: start again from nothing so every attempt exercises a full import.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert kills >= 25, f"only {kills} of 50 runs were killed mid-way; the import finished too fast to test"
    assert run_cli("import", str(tickets), "--db", str(db), "--now", NOW_TEXT, "-q").exit_code == 0
    assert integrity(db) == "ok"
    assert dump(db) == expected


def _children_of(pid: int) -> set[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the workers")
def test_parse_workers_exit_when_the_import_is_killed(tmp_path: Path) -> None:
    tickets = tmp_path / "tickets"
    write_tickets(tickets, 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskdist", "import", str(tickets), "--db", str(tmp_path / "l.db"), "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
        workers = _children_of(proc.pid)
        time.sleep(0.02)
    assert proc.poll() is None and workers, "the import finished before its workers could be seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "parse workers outlived the killed import"
