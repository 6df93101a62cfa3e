"""`taskdist queue` and `taskdist explain` end to end: formats, filters, exit codes, 80 columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from taskdist.factors import FACTORS
from tests.conftest import NOW_TEXT, SAMPLE, run_cli

KEYS = {"project", "id", "title", "status", "priority", "ready", "blocked_by", "factors"}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("sample") / "l.db")
    result = run_cli(
        "import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml"), "--db", db, "--now", NOW_TEXT, "-q"
    )
    assert result.exit_code == 0, result.stderr
    return db


def queue(db: str, *args: str, columns: int = 100) -> list[dict]:  # type: ignore[type-arg]
    result = run_cli("queue", "--db", db, "--now", NOW_TEXT, "--format", "json", *args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_queue_json_contract(sample_db: str) -> None:
    records = queue(sample_db)
    assert len(records) == 43
    assert [r["rank"] for r in records] == list(range(1, 44))
    for r in records:
        assert set(r) >= KEYS
        assert list(r["factors"]) == list(FACTORS)
        assert sum(f["contribution"] for f in r["factors"].values()) == pytest.approx(r["priority"], abs=1e-9)
        for f in r["factors"].values():
            assert 0 <= f["value"] <= 1
            assert f["contribution"] == pytest.approx(100 * f["value"] * f["weight"], abs=1e-9)
        assert r["ready"] == (not r["blocked_by"] and r["status"] != "blocked")
    priorities = [r["priority"] for r in records]
    assert priorities == sorted(priorities, reverse=True)
    top = records[0]
    assert (top["id"], top["blocked_by"], top["ready"]) == ("TSK-0106", ["TSK-0105"], False)
    epics = [r for r in records if r["id"].startswith("EP-")]
    assert epics == []  # containers are not queued


def test_queue_filters(sample_db: str) -> None:
    everything = queue(sample_db)
    ready = queue(sample_db, "--ready-only")
    assert ready == [r for r in everything if r["ready"]]
    assert {r["status"] for r in queue(sample_db, "--status", "in_progress")} == {"in_progress"}
    mine = queue(sample_db, "--assignee", "Backend Agent")  # an alias of backend-1
    assert mine and {r["assignee"] for r in mine} == {"backend-1"}
    assert [r["id"] for r in queue(sample_db, "--limit", "5")] == [r["id"] for r in everything[:5]]
    assert queue(sample_db, "--project", "sample_tasks", "--limit", "2") == everything[:2]
    assert queue(sample_db, "--limit", "0") == []


def test_queue_csv(sample_db: str) -> None:
    result = run_cli("queue", "--db", sample_db, "--now", NOW_TEXT, "--format", "csv", "--limit", "3")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["id"] == "TSK-0106" and rows[0]["blocked_by"] == "TSK-0105"
    assert set(FACTORS) <= set(rows[0])


@pytest.mark.parametrize("columns", [80, 140])
def test_queue_table_fits_the_terminal(sample_db: str, columns: int) -> None:
    result = run_cli("queue", "--db", sample_db, "--now", NOW_TEXT, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "TSK-0106" in result.stdout and "43 of 43 matching (43 queued, 26 ready)" in result.stdout
    assert "capability gap" in result.stdout


def test_explain_table_and_json(sample_db: str) -> None:
    result = run_cli("explain", "TSK-0105", "--db", sample_db, "--now", NOW_TEXT, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for words in ("urgency", "0.833", "20.83", "63.90", "unblocks (10)", "next change: 2026-11-22T16:48:00Z"):
        assert words in result.stdout
    data = json.loads(
        run_cli("explain", "sample_tasks:TSK-0105", "--db", sample_db, "--now", NOW_TEXT, "-f", "json").stdout
    )
    assert sum(f["contribution"] for f in data["factors"].values()) == pytest.approx(data["priority"], abs=1e-9)
    assert data["rank"] == 4 and data["ready"] is True and data["blocked_by"] == []
    assert data["unblocks"] == [
        "TSK-0007", "TSK-0008", "TSK-0009", "TSK-0013", "TSK-0106", "TSK-0107", "TSK-0108", "TSK-0113", "TSK-0116",
        "TSK-0117",
    ]  # fmt: skip
    assert data["next_change"]["at"] == "2026-11-22T16:48:00Z"
    assert "slack 3.3 days" in data["factors"]["urgency"]["inputs"]
    same = run_cli(
        "explain", "TSK-0105", "--project", "sample_tasks", "--db", sample_db, "--now", NOW_TEXT, "-f", "json"
    )
    assert json.loads(same.stdout) == data
    epic = json.loads(run_cli("explain", "EP-0002", "--db", sample_db, "--now", NOW_TEXT, "-f", "json").stdout)
    assert epic["queued"] is False and epic["rank"] is None and "container" in " ".join(epic["notes"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("explain", "NOPE-1"), 2, "no ticket 'NOPE-1'"),
        (("explain", "other:TSK-0105"), 2, "no ticket"),
        (("queue", "--status", "done"), 2, "--status 'done'"),
        (("queue", "--project", "nope"), 2, "no project 'nope'"),
        (("queue", "--format", "xml"), 2, "--format 'xml'"),
        (("queue", "--limit", "-1"), 2, "--limit"),
    ],
)
def test_user_mistakes_exit_2_with_an_error_line(
    sample_db: str, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run_cli(*args, "--db", sample_db, "--now", NOW_TEXT)
    assert result.exit_code == code
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_no_ledger_exits_3(tmp_path: Path) -> None:
    result = run_cli("queue", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert result.exit_code == 3 and result.stderr.startswith("Error: no ledger")


def _write(folder: Path, ticket_id: str, deps: list[str], title: str | None = None) -> None:
    (folder / f"{ticket_id}.md").write_text(
        "---\n"
        f"id: {ticket_id}\n"
        f"title: {title or 'Ticket ' + ticket_id}\n"
        "type: task\n"
        "status: open\n"
        "priority: high\n"
        f"dependencies: [{', '.join(deps)}]\n"
        "---\n\nBody.\n",
        encoding="utf-8",
    )


def test_cycles_and_dangling_references_show_and_the_queue_still_prints(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    folder.mkdir()
    _write(folder, "TSK-0001", ["TSK-0002"])
    _write(folder, "TSK-0002", ["TSK-0003"])
    _write(folder, "TSK-0003", ["TSK-0001"])
    _write(folder, "TSK-0004", ["TSK-0003", "TSK-0404"])
    _write(folder, "TSK-0005", ["TSK-0405"], title="'[bold red]markup[/] \\e[31m'")
    db = str(tmp_path / "l.db")
    assert run_cli("import", str(folder), "--db", db, "--now", NOW_TEXT, "-q").exit_code == 0
    records = {r["id"]: r for r in queue(db)}
    for ticket_id in ("TSK-0001", "TSK-0002", "TSK-0003"):
        assert "cycle" in records[ticket_id]["flags"] and records[ticket_id]["ready"] is False
    assert records["TSK-0001"]["blocked_by"] == ["TSK-0002"]
    assert records["TSK-0004"]["blocked_by"] == ["TSK-0003"] and "cycle" not in records["TSK-0004"]["flags"]
    assert records["TSK-0004"]["dangling"] == ["TSK-0404"] and "dangling" in records["TSK-0004"]["flags"]
    assert records["TSK-0005"]["ready"] is True and records["TSK-0005"]["dangling"] == ["TSK-0405"]
    assert records["TSK-0001"]["unblocks"] == 3  # the other two members and TSK-0004
    wide = run_cli("queue", "--db", db, "--now", NOW_TEXT, env={"COLUMNS": "200"})
    assert wide.exit_code == 0
    assert "1 dependency cycle(s): tickets:TSK-0001 -> tickets:TSK-0002 -> tickets:TSK-0003" in wide.stdout
    assert "2 dangling reference(s)" in wide.stdout
    narrow = run_cli("queue", "--db", db, "--now", NOW_TEXT, env={"COLUMNS": "80"})
    assert narrow.exit_code == 0
    assert sum("↻ no:" in line for line in narrow.stdout.splitlines()) == 3
    assert "? yes" in narrow.stdout
    assert "[bold red]markup[/]" in narrow.stdout and "\x1b" not in narrow.stdout
    explained = json.loads(run_cli("explain", "TSK-0002", "--db", db, "--now", NOW_TEXT, "-f", "json").stdout)
    assert explained["cycles"] == [["tickets:TSK-0001", "tickets:TSK-0002", "tickets:TSK-0003"]]
    assert explained["unblocks"] == ["TSK-0001", "TSK-0003", "TSK-0004"]


def test_export_svg(sample_db: str, tmp_path: Path) -> None:
    target = tmp_path / "queue.svg"
    result = run_cli("queue", "--db", sample_db, "--now", NOW_TEXT, "--limit", "5", "--export", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("<svg")


def test_big_queue_json_built_by_two_processes_is_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    from taskdist.queue import QueueFilter, select
    from taskdist.render import priority as render
    from tests.conftest import NOW
    from tests.priority_tools import score, ticket

    tickets = [
        ticket(f"T-{k:03d}", due=NOW + timedelta(days=k % 40 - 5), depends_on=(f"T-{k - 1:03d}",) if k % 3 else ())
        for k in range(120)
    ]
    report = select(score(tickets), QueueFilter())
    whole = render.queue_json(report)
    monkeypatch.setattr(render, "PARALLEL_ROWS", 10)
    render._write_json(report)
    assert capfd.readouterr().out == whole
    assert [r["id"] for r in json.loads(whole)] == [report.scores.tickets.id[k] for k in report.rows.tolist()]
