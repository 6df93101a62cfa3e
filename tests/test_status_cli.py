"""`taskdist status`, `escalate` and the outcome commands, end to end; the outcome/status precedence."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from taskdist.config import Config, Source
from taskdist.errors import UsageError, WriteBackRefused
from taskdist.importer import import_sources
from taskdist.ledger.tickets import iter_tickets
from taskdist.outcomes import record_outcome
from tests.conftest import NOW, NOW_TEXT, SAMPLE, run_cli
from tests.status_tools import Spec, import_project, ticket_text, write_project

NARROW = {"COLUMNS": "80"}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sample") / "ledger.db"
    result = run_cli("import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml"), "--db", str(db), "--now", NOW_TEXT)
    assert result.exit_code == 0, result.stderr
    return db


@pytest.fixture
def private_db(sample_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "ledger.db"
    shutil.copy(sample_db, db)
    return db


def test_sample_status_shows_every_section_within_80_columns(sample_db: Path) -> None:
    result = run_cli("status", "--db", str(sample_db), "--now", NOW_TEXT, env=NARROW)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for heading in ("taskdist status", "Queue", "Workload", "Health", "Forecast", "Progress", "Escalations"):
        assert any(line.lstrip().startswith(heading) for line in lines), heading
    for empty in ("nothing queued", "no open work", "nothing to escalate", "no roster imported"):
        assert empty not in result.stdout
    assert "TSK-0014" in result.stdout and "crit 100%" in result.stdout
    assert "frontend-1" in result.stdout and "idle" in result.stdout
    assert "█" in result.stdout  # utilization and completion bars


def test_sample_status_json_has_the_four_sections(sample_db: Path) -> None:
    result = run_cli("status", "--format", "json", "--db", str(sample_db), "--now", NOW_TEXT)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"queue", "workload", "progress", "escalations", "summary"}
    first = data["queue"][0]
    assert {"project", "id", "title", "status", "priority", "ready", "blocked_by", "factors"} <= set(first)
    assert set(first["factors"]["urgency"]) == {"value", "weight", "contribution"}
    assert len(data["queue"]) == 10
    workload = data["workload"]
    assert {a["id"] for a in workload["agents"]} >= {"backend-1", "frontend-1", "docs-1"}
    assert 0 <= workload["health"]["score"] <= 100
    assert set(workload["health"]["parts"]) == {"capacity", "balance", "flow", "queue_age", "delivery"}
    assert {"idle", "queue_too_old"} <= {a["kind"] for a in workload["alerts"]}
    assert {"backlog_hours", "team_capacity_hours", "days_to_clear", "trend"} <= set(workload["forecast"])
    progress = {p["id"]: p for p in data["progress"]}
    assert progress["EP-0001"]["kind"] == "epic" and 0 <= progress["EP-0001"]["completion"] <= 100
    assert progress["TSK-0014"]["risk"] == "critical" and progress["TSK-0014"]["p_late"] == 1.0
    for entry in data["progress"]:
        if entry["p50"] and entry["p90"]:
            assert entry["p50"] <= entry["p90"]
    rules = {(e["rule"], e["ticket"]) for e in data["escalations"]}
    assert ("overdue", "TSK-0014") in rules and ("overdue", "TSK-0119") in rules
    assert ("no_eligible_agent", "TSK-0109") in rules
    assert data["summary"]["escalations"]["new"] == len(data["escalations"])


def test_one_section_and_a_bad_section(sample_db: Path) -> None:
    result = run_cli("status", "workload", "--db", str(sample_db), "--now", NOW_TEXT, env=NARROW)
    assert result.exit_code == 0
    assert "Workload" in result.stdout and "Queue " not in result.stdout and "Escalations" not in result.stdout
    data = json.loads(run_cli("status", "progress", "-f", "json", "--db", str(sample_db), "--now", NOW_TEXT).stdout)
    assert set(data) == {"progress", "summary"}
    bad = run_cli("status", "everything", "--db", str(sample_db), "--now", NOW_TEXT)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: unknown section 'everything'")
    table = run_cli("status", "workload", "-f", "csv", "--db", str(sample_db), "--now", NOW_TEXT).stdout.splitlines()
    assert table[0].startswith("id,name,hours,tickets,capacity_hours") and len(table) == 1 + 7
    mixed = run_cli("status", "-f", "csv", "--db", str(sample_db), "--now", NOW_TEXT)
    assert mixed.exit_code == 2 and "one section" in mixed.stderr


def test_export_svg_and_html(sample_db: Path, tmp_path: Path) -> None:
    svg = tmp_path / "status.svg"
    result = run_cli("status", "--db", str(sample_db), "--now", NOW_TEXT, "--export", str(svg), env=NARROW)
    assert result.exit_code == 0, result.stderr
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<svg")
    page = tmp_path / "status.html"
    assert (
        run_cli("status", "escalations", "--db", str(sample_db), "--now", NOW_TEXT, "--export", str(page)).exit_code
        == 0
    )
    assert "Escalations" in page.read_text(encoding="utf-8")


def test_escalate_dry_run_then_apply_then_status_shows_the_levels(private_db: Path) -> None:
    dry = run_cli("escalate", "--db", str(private_db), "--now", NOW_TEXT, env=NARROW)
    assert dry.exit_code == 0, dry.stderr
    assert "dry run" in dry.stdout and "TSK-0014" in dry.stdout
    planned = json.loads(run_cli("escalate", "-f", "json", "--db", str(private_db), "--now", NOW_TEXT).stdout)
    applied = json.loads(
        run_cli("escalate", "--apply", "-f", "json", "--db", str(private_db), "--now", NOW_TEXT).stdout
    )
    assert applied["applied"] and applied["counts"] == {"escalate": 5}
    assert not planned["applied"]
    assert [{**step, "escalation": None} for step in applied["steps"]] == planned[
        "steps"
    ]  # the plan is what --apply wrote
    later = "2026-11-23T10:00:00Z"
    data = json.loads(run_cli("status", "escalations", "-f", "json", "--db", str(private_db), "--now", later).stdout)
    assert {e["state"] for e in data["escalations"]} == {"open"}
    assert {e["level"] for e in data["escalations"]} == {1}
    rerun = json.loads(run_cli("escalate", "--apply", "-f", "json", "--db", str(private_db), "--now", later).stdout)
    assert rerun["counts"] == {"escalate": 5}
    assert {s["level_name"] for s in rerun["steps"]} == {"tech-lead"}
    trend = json.loads(run_cli("status", "workload", "-f", "json", "--db", str(private_db), "--now", later).stdout)
    assert trend["workload"]["forecast"]["trend"]["direction"] == "flat"


def test_outcome_commands_and_their_errors(private_db: Path) -> None:
    db = ["--db", str(private_db), "--now", NOW_TEXT]
    started = run_cli("start", "TSK-0012", *db)
    assert started.exit_code == 0, started.stderr
    assert started.stdout.startswith("sample_tasks:TSK-0012: started by qa-1; status open -> in_progress")
    again = run_cli("start", "TSK-0012", *db)
    assert again.exit_code == 0 and "already in_progress; nothing recorded" in again.stdout
    done = json.loads(run_cli("done", "TSK-0012", "--actual-hours", "1.5", "-f", "json", *db).stdout)
    assert (done["status"], done["agent"], done["actual_hours"], done["recorded"]) == ("done", "qa-1", 1.5, True)
    assert run_cli("fail", "TSK-0012", "--reason", "x", *db).exit_code == 2  # done: reopen in the file first
    missing_reason = run_cli("fail", "TSK-0005", *db)
    assert missing_reason.exit_code == 2 and "--reason" in missing_reason.stderr
    blank = run_cli("fail", "TSK-0005", "--reason", "  ", *db)
    assert blank.exit_code == 2 and blank.stderr.startswith("Error: --reason")
    assert run_cli("done", "TSK-0118", *db).exit_code == 2  # cancelled
    assert run_cli("done", "TSK-0005", "--actual-hours", "-1", *db).exit_code == 2
    assert run_cli("start", "NOPE-1", *db).exit_code == 2
    history = run_cli("history", "TSK-0012", "-f", "json", *db)
    kinds = [e["kind"] for e in json.loads(history.stdout)["events"]]
    assert kinds[-2:] == ["started", "done"]


# --- precedence: the ledger's status vs the file's -----------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    folder, roster = write_project(tmp_path, [Spec("T-1", assignee="alice"), Spec("T-2")])
    yield tmp_path / "l.db", folder, roster


def status_of(ledger: object, ticket: str) -> str:
    found = [t for t in iter_tickets(ledger, project="demo") if t.id == ticket]  # type: ignore[arg-type]
    return found[0].status.value


def reimport(ledger: object, folder: Path, at_hours: float) -> None:
    import_sources(ledger, [Source(path=str(folder), project="demo")], Config(), NOW + timedelta(hours=at_hours))  # type: ignore[arg-type]


def last_update(ledger: object) -> tuple[list[str], dict[str, Any]]:
    """The fields and changes of the newest `updated` event."""
    row = ledger.conn.execute(  # type: ignore[attr-defined]
        "SELECT data FROM events WHERE kind = 'updated' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    data = json.loads(row[0])
    return data["fields"], data["changes"]


def test_outcome_survives_reimports_until_the_files_status_changes(project: tuple[Path, Path, Path]) -> None:
    db, folder, roster = project
    ledger = import_project(db, folder, roster, NOW)
    result = record_outcome(ledger, Config(), NOW, "T-1", "done", actual_hours=2.0)
    assert (result.agent, result.status_after) == ("alice", "done")
    reimport(ledger, folder, 1)  # unchanged file
    assert status_of(ledger, "T-1") == "done"
    path = folder / "T-1.md"
    path.write_text(ticket_text(Spec("T-1", assignee="alice", title="Renamed")), encoding="utf-8")
    reimport(ledger, folder, 2)  # the file changed, but not its status
    assert status_of(ledger, "T-1") == "done"
    # The event names what changed in the ledger: the title, not a status that the outcome kept.
    fields, changes = last_update(ledger)
    assert "title" in fields and "status" not in fields and "status" not in changes
    path.write_text(ticket_text(Spec("T-1", assignee="alice", status="in_progress")), encoding="utf-8")
    reimport(ledger, folder, 3)  # the file's status changed after the outcome: the file wins
    assert status_of(ledger, "T-1") == "in_progress"
    fields, changes = last_update(ledger)
    assert "status" in fields and changes["status"] == ["done", "in_progress"]
    path.write_text(ticket_text(Spec("T-1", assignee="alice", status="open")), encoding="utf-8")
    reimport(ledger, folder, 4)
    assert status_of(ledger, "T-1") == "open"


def test_write_back_changes_only_the_status_bytes(project: tuple[Path, Path, Path]) -> None:
    db, folder, roster = project
    ledger = import_project(db, folder, roster, NOW)
    path = folder / "T-2.md"
    before = path.read_bytes()
    result = record_outcome(ledger, Config(), NOW, "T-2", "done", write_back=True)
    assert result.wrote_file == str(path)
    after = path.read_bytes()
    assert after == before.replace(b"status: open\n", b"status: completed\n", 1)
    assert status_of(ledger, "T-2") == "done"
    reimport(ledger, folder, 1)
    assert status_of(ledger, "T-2") == "done"


def test_write_back_refuses_a_file_changed_since_import_and_writes_nothing(project: tuple[Path, Path, Path]) -> None:
    db, folder, roster = project
    ledger = import_project(db, folder, roster, NOW)
    path = folder / "T-2.md"
    path.write_text(ticket_text(Spec("T-2", title="Edited by hand")), encoding="utf-8")
    edited = path.read_bytes()
    with pytest.raises(WriteBackRefused, match="changed since it was imported"):
        record_outcome(ledger, Config(), NOW, "T-2", "started", write_back=True)
    assert path.read_bytes() == edited
    assert status_of(ledger, "T-2") == "open"  # the whole outcome rolled back with it
    with pytest.raises(UsageError):
        record_outcome(ledger, Config(), NOW, "T-2", "failed", reason="")
