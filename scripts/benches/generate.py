"""Deterministic synthetic backlogs for the benchmarks: ticket FILES (dialects A and B) and rosters.

A backlog of N tickets looks like a real one: ~2% epics, ~20% issues, the rest tasks under them;
a quarter closed; 60% with a due date from 10 days ago to 60 days ahead; priorities skewed to
medium/high; 1-3 skill tags (plus the odd non-skill tag such as `migration`); estimates in hours,
duration strings or story points; dependency chains inside work streams (each ticket depends on
0-2 of the previous ones of its stream); some assignees, client tiers and revenue figures.

The files are imported through the real importer, so the ledger is exactly what users get. Both
are cached under bench-results/cache/ by (tickets, agents, seed, generator version).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "bench-results" / "cache"
VERSION = 3
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
NOW_TEXT = "2026-11-22T09:00:00Z"
PROJECT = "bench"
GENERATION_SECONDS = 0.0  # spent building files and ledgers in this process (0 when all was cached)

# Work comes in roles: a ticket's tags and an agent's skills are drawn from one role (plus extras).
ROLES = (
    ("python", "backend", "database", "testing"),
    ("frontend", "react", "design", "testing"),
    ("devops", "infra", "security", "networking"),
    ("data", "ml", "python", "database"),
    ("mobile", "ios", "android", "design"),
    ("docs", "design"),
    ("security", "backend", "networking"),
    ("payments", "backend", "python", "go"),
)
SKILLS = sorted({s for role in ROLES for s in role})
NOT_SKILLS = ("migration", "ux", "customer", "q4", "tech-debt", "launch")
STATUSES = (
    ("open", 44),
    ("in_progress", 14),
    ("review", 5),
    ("blocked", 4),
    ("done", 28),
    ("cancelled", 5),
)
PRIORITIES = (("low", 18), ("medium", 42), ("high", 30), ("critical", 10))
TIERS = ("enterprise", "tier 2", "standard", "free")


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_roster(path: Path, agents: int, seed: int) -> Path:
    """A roster of `agents` agents: 2-4 skills of one role (0.7-1.0), sometimes one more (0.4-0.8)."""
    rng = random.Random(seed * 7919 + agents)
    lines = ["agents:"]
    for a in range(agents):
        role = rng.choice(ROLES)
        skills = {s: rng.uniform(0.7, 1.0) for s in rng.sample(role, rng.randint(min(2, len(role)), len(role)))}
        if rng.random() < 0.4:
            skills.setdefault(rng.choice(SKILLS), rng.uniform(0.4, 0.8))
        levels = ", ".join(f"{s}: {v:.2f}" for s, v in skills.items())
        lines += [
            f"  - id: agent-{a:04d}",
            f"    name: Agent {a}",
            f"    skills: {{{levels}}}",
            f"    capacity_hours: {rng.choice((20, 30, 32, 40))}",
            f"    max_tasks: {rng.randint(3, 6)}",
            f"    availability: {rng.choice((1.0, 1.0, 1.0, 0.8, 0.5))}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_tickets(folder: Path, count: int, seed: int, agents: int) -> int:
    """Write `count` ticket files under `folder` (tasks/{epics,issues,tasks}); returns files written."""
    rng = random.Random(seed)
    for sub in ("epics", "issues", "tasks"):
        (folder / "tasks" / sub).mkdir(parents=True, exist_ok=True)
    epics = max(1, count // 50)
    issues = max(1, count // 5)
    streams: dict[int, list[str]] = {}
    for n in range(count):
        if n < epics:
            kind, ticket_id = "epic", f"EP-{n + 1:06d}"
            parent = None
        elif n < epics + issues:
            kind, ticket_id = "issue", f"ISS-{n - epics + 1:06d}"
            parent = f"EP-{rng.randint(1, epics):06d}"
        else:
            kind, ticket_id = "task", f"TSK-{n - epics - issues + 1:06d}"
            parent = f"ISS-{rng.randint(1, issues):06d}"
        stream = streams.setdefault(rng.randrange(max(1, count // 40)), [])
        deps = []
        if kind != "epic" and stream and rng.random() < 0.45:
            deps = sorted(set(rng.sample(stream[-6:], min(len(stream[-6:]), rng.choice((1, 1, 2))))))
        if rng.random() < 0.003:
            deps.append(f"TSK-{count * 10 + n:06d}")  # dangling: names no file
        stream.append(ticket_id)
        text = _ticket_text(rng, n, kind, ticket_id, parent, deps, agents, count)
        (folder / "tasks" / f"{kind}s" / f"{ticket_id}.md").write_text(text, encoding="utf-8")
    return count


def _ticket_text(
    rng: random.Random, n: int, kind: str, ticket_id: str, parent: str | None, deps: list[str], agents: int, count: int
) -> str:
    status = _pick(rng, STATUSES)
    priority = _pick(rng, PRIORITIES)
    created = NOW - timedelta(days=rng.uniform(1, 200))
    updated = created + timedelta(days=rng.uniform(0, 20))
    due = NOW + timedelta(days=rng.uniform(-10, 60)) if rng.random() < 0.6 else None
    role = rng.choice(ROLES)
    tags = rng.sample(role, rng.randint(1, min(3, len(role))))
    if rng.random() < 0.2:
        tags.append(rng.choice(NOT_SKILLS))
    # Work in flight has an owner; little else does, so agents hold about max_tasks tickets each.
    share = 4.0 * agents / max(1.0, 0.19 * count) if status in ("in_progress", "review") else 0.005
    if status in ("done", "cancelled"):
        share = 0.5
    assignee = f"agent-{rng.randrange(agents):04d}" if agents and rng.random() < share else None
    hours = round(min(80.0, rng.lognormvariate(1.6, 0.7)), 1)
    title = f"{kind.title()} {n} - {rng.choice(('Build', 'Fix', 'Refactor', 'Document', 'Migrate'))} {tags[0]} piece"
    body = f"\n# {title}\n\n## Description\nSynthetic ticket {n}.\n\n## Tasks\n- [x] design\n- [ ] build\n- [ ] test\n"
    business = []
    if rng.random() < 0.05:
        business.append(f"client_tier: {rng.choice(TIERS)}")
    if rng.random() < 0.04:
        business.append(f"revenue_potential: {rng.randrange(1, 200) * 1000}")
    if n % 2 == 0:
        # Dialect A: one id key per type, ai_context, duration strings.
        key = {"epic": "epic_id", "issue": "issue_id", "task": "task_id"}[kind]
        lines = [
            "---",
            f"{key}: {ticket_id}",
            f"title: {title}",
            f"status: {status}",
            f"priority: {priority}",
            f"assignee: {assignee or 'unassigned'}",
            f"created_date: {_stamp(created)}",
            f"updated_date: {_stamp(updated)}",
            f"time_estimate: {hours}h" if rng.random() < 0.7 else f"story_points: {max(1, round(hours / 4))}",
            f"tags: [{', '.join(tags)}]",
        ]
        if kind == "task" and parent:
            lines.append(f"issue_id: {parent}")
        elif kind == "issue" and parent:
            lines.append(f"epic_id: {parent}")
        if due:
            lines.append(f"due_date: {due.strftime('%Y-%m-%d')}")
        if deps:
            lines.append(f"dependencies: [{', '.join(deps)}]")
        lines += business
        lines.append("---")
    else:
        # Dialect B: generic id, assignees list, metadata, quoted naive timestamps.
        lines = [
            "---",
            f"actual_hours: {'null' if status != 'done' else round(hours * rng.uniform(0.6, 1.6), 1)}",
            f"assignees: [{assignee}]" if assignee else "assignees: []",
            f"created_at: '{created.strftime('%Y-%m-%dT%H:%M:%S.%f')}'",
            f"dependencies: [{', '.join(deps)}]",
            f"description: Synthetic ticket {n}",
            f"due_date: '{due.strftime('%Y-%m-%dT%H:%M:%S')}'" if due else "due_date: ''",
            f"estimated_hours: {hours}",
            f"id: {ticket_id}",
            "labels: []",
            "metadata:",
            f"  type: {kind}",
            *(f"  {b}" for b in business),
            f"parent: {parent or 'null'}",
            f"priority: {priority}",
            f"status: {status}",
            f"tags: [{', '.join(tags)}]",
            f"title: {title}",
            f"updated_at: '{updated.strftime('%Y-%m-%dT%H:%M:%S.%f')}'",
            "---",
        ]
    return "\n".join(lines) + "\n" + body


def tickets_for(count: int, agents: int, seed: int = 7) -> Path:
    """The folder of generated ticket files (cached), with `roster.yaml` beside `tasks/`."""
    folder = CACHE / f"tickets-v{VERSION}-{count}-{agents}-{seed}"
    if not (folder / ".complete").exists():
        with _generating():
            # Built aside and renamed into place: helpers running benches at once never see half a folder.
            scratch = CACHE / f".{folder.name}.{os.getpid()}"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            write_tickets(scratch, count, seed, agents)
            write_roster(scratch / "roster.yaml", agents, seed)
            (scratch / ".complete").touch()
            if folder.exists() and not (folder / ".complete").exists():
                shutil.rmtree(folder, ignore_errors=True)  # left by an interrupted older generator
            _move_into_place(scratch, folder)
    return folder


def ledger_for(count: int, agents: int, seed: int = 7) -> Path:
    """A ledger holding the generated backlog and roster, imported through the real importer (cached)."""
    folder = tickets_for(count, agents, seed)
    db = CACHE / f"ledger-v{VERSION}-{count}-{agents}-{seed}.db"
    if not db.exists():
        import_into(db, folder)
    return db


def adopt_ledger(source: Path, count: int, agents: int, seed: int = 7) -> None:
    """Keep a ledger the CLI just imported from `tickets_for(count, agents, seed)` as that size's cached
    ledger, if there is none yet: the same files, project, roster and time make the same ledger, and
    a first bench run then imports 100,000 tickets once instead of twice."""
    db = CACHE / f"ledger-v{VERSION}-{count}-{agents}-{seed}.db"
    if db.exists():
        return
    partial = db.with_name(f".{db.name}.{os.getpid()}")
    # The online backup API: a consistent copy, WAL included.
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    partial.rename(db)


def import_into(db: Path, folder: Path) -> None:
    """Import `folder`'s tasks/ and roster.yaml into a new ledger `db` (in-process, built aside)."""
    sys.path.insert(0, str(ROOT))
    from taskdist.config import Config, Source
    from taskdist.importer import import_sources
    from taskdist.ledger.db import open_ledger

    with _generating():
        partial = db.with_name(f".{db.name}.{os.getpid()}")
        for stale in CACHE.glob(partial.name + "*"):
            stale.unlink()
        ledger = open_ledger(partial, create=True)
        try:
            import_sources(
                ledger,
                [Source(path=str(folder / "tasks"), project=PROJECT)],
                Config(),
                NOW,
                roster=folder / "roster.yaml",
            )
            ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            ledger.close()
        for side in CACHE.glob(partial.name + "-*"):  # -wal, -shm: empty after the checkpoint
            side.unlink()
        if db.exists():
            partial.unlink()
        else:
            partial.rename(db)


def _move_into_place(scratch: Path, folder: Path) -> None:
    try:
        scratch.rename(folder)
    except OSError:  # another process finished the same folder first: theirs is as good
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _generating() -> Iterator[None]:
    """Count the time spent building data, so the bench can tell it from the time spent measuring."""
    global GENERATION_SECONDS
    started = time.perf_counter()
    try:
        yield
    finally:
        GENERATION_SECONDS += time.perf_counter() - started
