"""`assign`, `next`, `explain` candidates and `agents` figures, end to end through the CLI."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.assignment_tools import ticket_a, ticket_b, write_project
from tests.conftest import NOW_TEXT, run_cli

PLAN_KEYS = {"applied", "objective", "assignments", "unassigned"}
ASSIGNMENT_KEYS = {"project", "ticket", "agent", "priority", "compatibility", "value", "runner_up"}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A small project (dialects A and B) imported into a ledger; returns (folder, db)."""
    files = {
        "T-1.md": ticket_a("T-1"),
        "T-2.md": ticket_a("T-2"),
        "T-3.md": ticket_a("T-3"),
        "T-4.md": ticket_a("T-4", hours=6),
        "T-5.md": ticket_a("T-5", tags="[frontend]", hours=12),
        "T-6.md": ticket_a("T-6", tags="[python]", extra="required_skills: [ml]\n"),
        "T-7.md": ticket_a("T-7", deps="[T-1]"),
        "T-8.md": ticket_a("T-8", assignee="alice", status="in_progress"),
        "D-1.md": ticket_a("D-1", assignee="al", status="completed", extra="actual_hours: 3\n"),
        "B-1.md": ticket_b("B-1"),
    }
    folder = tmp_path / "proj"
    roster = write_project(folder, files)
    db = tmp_path / "ledger.db"
    result = run_cli(
        "import",
        str(folder / "tasks"),
        "--project",
        "proj",
        "--roster",
        str(roster),
        "--db",
        str(db),
        "--now",
        NOW_TEXT,
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    return folder, db


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(*args, "--db", str(db), "--now", NOW_TEXT)
    return result.exit_code, result.stdout, result.stderr


def plan_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    code, out, err = cli(db, "assign", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def ledger_bytes(db: Path) -> str:
    digest = hashlib.sha256()
    for path in (db, db.with_name(db.name + "-wal")):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def test_plan_json_shape_reasons_and_kept_tickets(project: tuple[Path, Path]) -> None:
    _, db = project
    plan = plan_json(db)
    assert set(plan) >= PLAN_KEYS and plan["applied"] is False
    for item in plan["assignments"]:
        assert set(item) >= ASSIGNMENT_KEYS
        assert set(item["runner_up"]) == {"agent", "loss"}
        assert item["value"] == pytest.approx(item["priority"] * item["compatibility"] * item["slot_factor"], rel=1e-5)
    assigned = {a["ticket"]: a["agent"] for a in plan["assignments"]}
    assert set(assigned) == {"T-1", "T-2", "T-3", "T-4", "B-1"}
    assert set(assigned.values()) <= {"alice", "bob"}
    assert plan["objective"] == pytest.approx(sum(a["value"] for a in plan["assignments"]), abs=1e-5)
    reasons = {u["ticket"]: u["reason"] for u in plan["unassigned"]}
    assert reasons == {"T-5": "no capacity", "T-6": "no eligible agent", "T-7": "blocked"}
    kept = {k["ticket"]: (k["agent"], k["reason"]) for k in plan["kept"]}
    assert kept == {"T-8": ("alice", "in progress (kept)")}
    # alice holds T-8, so she has 2 slots left and bob 3: five tickets fit exactly.
    per_agent = {a["agent"]: a["new_tickets"] for a in plan["agents"]}
    assert per_agent["alice"] <= 2 and per_agent["bob"] <= 3


def test_dry_run_changes_no_byte_and_apply_writes_exactly_that_plan(project: tuple[Path, Path]) -> None:
    _, db = project
    before = ledger_bytes(db)
    dry = plan_json(db)
    code, out, _ = cli(db, "assign")
    assert code == 0 and "dry run" in out
    assert ledger_bytes(db) == before
    applied = plan_json(db, "--apply")
    assert applied["applied"] is True
    assert {**dry, "applied": True} == applied
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT project, ticket, agent, state FROM assignments ORDER BY ticket").fetchall()
    assert {(r[1], r[2]) for r in rows} == {(a["ticket"], a["agent"]) for a in dry["assignments"]}
    assert {r[3] for r in rows} == {"applied"}
    events = conn.execute("SELECT ticket, agent FROM events WHERE kind = 'assigned'").fetchall()
    assert sorted(events) == sorted((a["ticket"], a["agent"]) for a in dry["assignments"])
    holders = dict(conn.execute("SELECT id, assignee FROM tickets WHERE project = 'proj'").fetchall())
    assert all(holders[a["ticket"]] == a["agent"] for a in dry["assignments"])
    conn.close()
    again = plan_json(db)
    assert again["assignments"] == []
    assert {k["ticket"] for k in again["kept"]} == {"T-8"} | {a["ticket"] for a in dry["assignments"]}


def test_an_applied_assignment_survives_reimport_until_the_file_names_someone(project: tuple[Path, Path]) -> None:
    folder, db = project
    applied = plan_json(db, "--apply")
    agent = next(a["agent"] for a in applied["assignments"] if a["ticket"] == "T-1")
    path = folder / "tasks" / "T-1.md"
    path.write_text(ticket_a("T-1").replace("title: Task T-1", "title: Renamed"), encoding="utf-8")
    code, _, err = cli(db, "import", str(folder / "tasks"), "--project", "proj", "-q")
    assert code == 0, err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT assignee FROM tickets WHERE id = 'T-1'").fetchone()[0] == agent
    other = "bob" if agent == "alice" else "alice"
    path.write_text(ticket_a("T-1", assignee=other), encoding="utf-8")
    code, _, err = cli(db, "import", str(folder / "tasks"), "--project", "proj", "-q")
    assert code == 0, err
    assert conn.execute("SELECT assignee FROM tickets WHERE id = 'T-1'").fetchone()[0] == other
    assert conn.execute("SELECT state FROM assignments WHERE ticket = 'T-1'").fetchone()[0] == "superseded"
    conn.close()


def test_write_back_needs_apply_and_strategy_must_be_known(project: tuple[Path, Path]) -> None:
    _, db = project
    code, out, err = cli(db, "assign", "--write-back")
    assert (code, out) == (2, "")
    assert err.startswith("Error: --write-back changes ticket files, so it needs --apply")
    code, _, err = cli(db, "assign", "--strategy", "random")
    assert code == 2 and "--strategy 'random' is not one of: optimal, greedy, round-robin, least-loaded" in err


def test_every_strategy_plans_validly_and_optimal_is_best(project: tuple[Path, Path]) -> None:
    _, db = project
    optimal = plan_json(db)
    for strategy in ("greedy", "round-robin", "least-loaded"):
        plan = plan_json(db, "--strategy", strategy)
        assert plan["strategy"] == strategy
        assert optimal["objective"] >= plan["objective"] - 1e-9
        assert {a["agent"] for a in plan["assignments"]} <= {"alice", "bob"}


def test_next_shows_and_claims_the_best_ticket(project: tuple[Path, Path]) -> None:
    _, db = project
    code, out, err = cli(db, "next", "al", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["agent"] == "alice" and shown["claimed"] is False and shown["ticket"] in {"T-1", "T-2", "T-3", "B-1"}
    code, out, _ = cli(db, "next", "alice", "--claim", "--format", "json")
    claimed = json.loads(out)
    assert (claimed["ticket"], claimed["claimed"]) == (shown["ticket"], True)
    code, out, _ = cli(db, "next", "bob", "--format", "json")
    assert json.loads(out)["ticket"] != claimed["ticket"]
    code, out, _ = cli(db, "next", "carol", "--format", "json")
    assert json.loads(out) == {
        "ticket": None,
        "reason": "carol has 10.0 h of room left; the ready tickets it could do need more",
        "agent": "carol",
        "claimed": False,
    }
    code, _, err = cli(db, "next", "zed")
    assert code == 2 and err.startswith("Error: no agent 'zed' in the roster")


def test_explain_lists_candidate_agents_with_their_parts(project: tuple[Path, Path]) -> None:
    _, db = project
    code, out, err = cli(db, "explain", "T-5", "--format", "json")
    assert code == 0, err
    found = json.loads(out)["candidates"]
    by_agent = {a["agent"]: a for a in found["agents"]}
    assert found["eligible"] == 0 and found["best"] is None
    assert by_agent["carol"]["why_not"] == "no room: 0.0 of 10.0 h held, needs 12.0 h"
    assert by_agent["alice"]["why_not"] == "skill 0.00 < 0.80: weak frontend"
    assert set(by_agent["alice"]["parts"]) == {"skill", "experience", "performance", "availability", "load"}
    code, out, _ = cli(db, "explain", "T-1")
    assert "Candidate agents (2 eligible of 3)" in out


def test_agents_show_load_and_learned_figures(project: tuple[Path, Path]) -> None:
    _, db = project
    code, out, err = cli(db, "agents", "--format", "json")
    assert code == 0, err
    agents = {a["id"]: a for a in json.loads(out)}
    alice = agents["alice"]
    assert (alice["load_tasks"], alice["load_hours"]) == (1, 4.0)
    assert alice["learned"]["done"] == 1  # D-1, assigned to "al" (her alias), imported as completed
    assert alice["learned"]["speed"] < 1.0  # 3 h actual for 4 h estimated
    assert agents["bob"]["learned"]["done"] == 0
