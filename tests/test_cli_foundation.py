"""The foundation commands through the real CLI: exact exit codes, `Error:` lines, output formats."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import yaml

from taskdist.config import Config, config_from_mapping, load_config
from tests.conftest import NOW_TEXT, SAMPLE, probe_modules, run_cli

TICKET = "---\ntask_id: {id}\nissue_id: ISS-0001\ntitle: {title}\nstatus: open\npriority: high\n---\n\n- [ ] step\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with projects alpha and gamma that share the id TSK-0001."""
    folder = tmp_path_factory.mktemp("two")
    write(folder / "alpha/TSK-0001.md", TICKET.format(id="TSK-0001", title="alpha one"))
    write(folder / "alpha/TSK-0002.md", TICKET.format(id="TSK-0002", title='"[bold red]styled[/] \\e[31mred"'))
    write(folder / "gamma/TSK-0001.md", TICKET.format(id="TSK-0001", title="gamma one"))
    db = folder / "l.db"
    for name in ("alpha", "gamma"):
        result = run_cli("import", name, "--db", str(db), "--now", NOW_TEXT, "-q", cwd=folder)
        assert result.exit_code == 0, result.stderr
    return db


# --- errors: exit codes and messages ------------------------------------------------------------


def test_missing_ledger_exits_3(tmp_path: Path) -> None:
    result = run_cli("tickets", cwd=tmp_path)
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: no ledger at {tmp_path / '.taskdist/ledger.db'}; run `taskdist import PATH` "
        "(or `taskdist init`) first, or pass --db\n"
    )
    assert result.stdout == ""


def test_unknown_ticket_exits_2(two_projects: Path) -> None:
    result = run_cli("show", "NOPE-1", "--db", str(two_projects))
    assert result.exit_code == 2
    assert result.stderr == "Error: no ticket 'NOPE-1'; list them with `taskdist tickets`\n"
    result = run_cli("show", "alpha:NOPE-1", "--db", str(two_projects))
    assert (result.exit_code, result.stderr) == (2, "Error: no ticket 'NOPE-1' in project 'alpha'; list them with "
                                                    "`taskdist tickets`\n")  # fmt: skip


def test_ambiguous_id_exits_2_naming_project_ids(two_projects: Path) -> None:
    result = run_cli("show", "TSK-0001", "--db", str(two_projects))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 'TSK-0001' exists in 2 projects (alpha:TSK-0001, gamma:TSK-0001); say PROJECT:ID or use --project\n"
    )
    for args in (["gamma:TSK-0001"], ["TSK-0001", "--project", "gamma"], ["TSK-0001", "-p", "gamma"]):
        shown = run_cli("show", *args, "--db", str(two_projects), "--format", "json")
        assert shown.exit_code == 0, shown.stderr
        assert json.loads(shown.stdout)["title"] == "gamma one"
    assert json.loads(run_cli("show", "TSK-0002", "--db", str(two_projects), "-f", "json").stdout)["project"] == "alpha"


def test_bad_now_exits_2(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), "--now", "next tuesday")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --now 'next tuesday' is not a timestamp; use ISO 8601 such as 2026-11-22T09:00:00Z\n"
    )


def test_bad_format_exits_2(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == "Error: --format 'xml' is not one of: table, json, csv\n"


def test_bad_filter_value_exits_2(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), "--status", "finished")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --status 'finished' is not one of: open, in_progress, review, blocked, done, cancelled\n"
    )


def test_invalid_roster_exits_78_naming_agent_and_field(tmp_path: Path) -> None:
    write(tmp_path / "t/TSK-1.md", TICKET.format(id="TSK-1", title="x"))
    cases = {
        "agents:\n  - id: qa-1\n    skills: {testing: 1.5}\n": "agent 'qa-1': skills.testing must be between 0 and 1",
        "agents:\n  - id: be-1\n    capacity_hours: lots\n": "agent 'be-1': capacity_hours must be a number",
        "agents:\n  - id: be-2\n    max_tasks: -1\n": "agent 'be-2': max_tasks must be a whole number of at least 0",
        "agents:\n  - id: be-3\n    colour: blue\n": "agent 'be-3': unknown field 'colour'",
        "agents:\n  - name: no id\n": "agents[0] needs an `id` (text)",
    }
    for text, expected in cases.items():
        write(tmp_path / "roster.yaml", text)
        result = run_cli("import", "t", "--roster", "roster.yaml", "--db", "l.db", cwd=tmp_path)
        assert result.exit_code == 78, text
        assert result.stderr.startswith(f"Error: roster.yaml: {expected}"), result.stderr
    # The roster is checked before anything is written: no ledger was created.
    assert not (tmp_path / "l.db").exists()


def test_config_paths_resolve_from_the_config_folder() -> None:
    config = Config(base_dir="/repo")
    assert config.resolve("./roster.yaml") == "/repo/roster.yaml"
    assert config.resolve("tickets/") == "/repo/tickets"
    assert config.resolve("../shared//tickets") == "/shared/tickets"
    assert config.resolve("/elsewhere/t") == "/elsewhere/t"
    assert config.resolve("~/t") == os.path.join(os.path.expanduser("~"), "t")


def test_invalid_config_exits_78_naming_the_key(tmp_path: Path) -> None:
    cases = {
        "weights:\n  urgency: high\n": "Error: weights.urgency must be a number, got 'high'; fix it in taskdist.yaml\n",
        "effort:\n  default_hours: -2\n": "Error: effort.default_hours must be at least 0, got -2; fix it in "
        "taskdist.yaml\n",
        "limits:\n  max_files_x: 3\n": "Error: limits.max_files_x is not a known setting",
        "weightz: 1\n": "Error: unknown setting 'weightz' in taskdist.yaml",
        "sources: tasks\n": "Error: sources must be a list of folders; fix it in taskdist.yaml\n",
    }
    for text, expected in cases.items():
        write(tmp_path / "taskdist.yaml", text)
        result = run_cli("tickets", cwd=tmp_path)
        assert result.exit_code == 78, text
        assert result.stderr.startswith(expected), result.stderr


def test_import_without_sources_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    result = run_cli("import", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: nothing to import: give a folder (`taskdist import PATH`) or list sources in taskdist.yaml\n"
    )
    assert not (tmp_path / ".taskdist").exists()


def test_import_of_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = run_cli("import", "no-such-folder", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "Error: no-such-folder does not exist; give a folder of ticket files\n"
    assert not (tmp_path / ".taskdist").exists()


def test_project_option_takes_one_folder(tmp_path: Path) -> None:
    write(tmp_path / "a/T-1.md", TICKET.format(id="T-1", title="x"))
    write(tmp_path / "b/T-2.md", TICKET.format(id="T-2", title="x"))
    result = run_cli("import", "a", "b", "--project", "p", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --project names one project: give one folder with it")


# --- init and configuration ---------------------------------------------------------------------


def test_init_writes_a_commented_config_with_the_defaults_and_creates_the_ledger(tmp_path: Path) -> None:
    write(tmp_path / "tasks/TSK-1.md", TICKET.format(id="TSK-1", title="x"))
    write(tmp_path / "roster.yaml", "agents:\n  - id: dev-1\n    skills: {python: 0.9}\n")
    result = run_cli("init", "tasks", "--roster", "roster.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    config_path = tmp_path / "taskdist.yaml"
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith("# taskdist configuration.")
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 20
    raw = yaml.safe_load(text)
    assert raw["weights"] == {
        "urgency": 0.25,
        "business_impact": 0.30,
        "resource_efficiency": 0.20,
        "revenue": 0.15,
        "dependency": 0.10,
    }
    assert (raw["sources"], raw["roster"]) == (["tasks"], "roster.yaml")
    loaded = load_config(config_path)
    # Every section the file writes is exactly the built-in default: no key means what the file shows.
    for name, value in loaded._asdict().items():
        if name not in ("base_dir", "path", "sources", "roster"):
            assert value == getattr(Config(), name), name
    assert (tmp_path / ".taskdist/ledger.db").is_file()

    again = run_cli("init", cwd=tmp_path)
    assert again.exit_code == 0
    assert config_path.read_text(encoding="utf-8") == text  # kept without --force
    imported = run_cli("import", "--now", NOW_TEXT, "-f", "json", cwd=tmp_path)  # the sources listed by init
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["projects"] == ["tasks"]
    assert json.loads(imported.stdout)["agents"]["added"] == 1  # and the roster listed by init


def test_init_without_sources_loads_too(tmp_path: Path) -> None:
    from taskdist.config import default_config_text

    assert config_from_mapping(yaml.safe_load(default_config_text([], None)), tmp_path).sources == ()


def test_ledger_found_walking_up_and_env_override(tmp_path: Path) -> None:
    write(tmp_path / "taskdist.yaml", "sources: [tasks]\n")
    write(tmp_path / "tasks/TSK-1.md", TICKET.format(id="TSK-1", title="walked"))
    assert run_cli("import", "-q", cwd=tmp_path).exit_code == 0
    deep = tmp_path / "a/b"
    deep.mkdir(parents=True)
    listed = run_cli("tickets", "-f", "json", cwd=deep)
    assert listed.exit_code == 0, listed.stderr
    assert [t["title"] for t in json.loads(listed.stdout)] == ["walked"]
    elsewhere = run_cli("tickets", cwd=deep, env={"TASKDIST_DB": str(tmp_path / "nope.db")})
    assert elsewhere.exit_code == 3


# --- output formats -----------------------------------------------------------------------------


def test_import_json_report_shape(tmp_path: Path) -> None:
    write(tmp_path / "p/tasks/TSK-1.md", TICKET.format(id="TSK-1", title="x"))
    write(tmp_path / "p/archive/TSK-1.md", TICKET.format(id="TSK-1", title="old"))
    write(tmp_path / "p/tasks/bad.md", "---\ntask_id: TSK-9\ntitle: 'open\n---\n")
    write(tmp_path / "p/tasks/ISS-1.md", "---\nid: ISSUE-1\ntype: issue\ncreated: 2025-01-01\nassignee: @bo\n---\n")
    result = run_cli("import", "p", "--db", "l.db", "--now", NOW_TEXT, "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    required = {"imported", "updated", "unchanged", "errors", "warnings", "duplicates", "tickets"}
    assert required <= set(report)
    assert (report["imported"], report["updated"], report["unchanged"], report["tickets"]) == (2, 0, 0, 2)
    assert [{k: e[k] for k in ("path", "reason")} for e in report["errors"]] == [
        {"path": "p/tasks/bad.md", "reason": "invalid YAML frontmatter (while scanning a quoted scalar: found "
                                             "unexpected end of stream)"}
    ]  # fmt: skip
    assert {"path", "line", "reason"} <= set(report["errors"][0])
    assert [{k: w[k] for k in ("path", "line")} for w in report["warnings"]] == [
        {"path": "p/tasks/ISS-1.md", "line": None}
    ]
    assert report["duplicates"] == [
        {
            "id": "TSK-1",
            "project": "p",
            "kept": "p/tasks/TSK-1.md",
            "reason": "not in an archive/backup folder",
            "dropped": ["p/archive/TSK-1.md"],
        }
    ]


def test_import_table_lists_problems_as_path_line_reason(tmp_path: Path) -> None:
    write(tmp_path / "p/tasks/TSK-1.md", TICKET.format(id="TSK-1", title="x"))
    write(tmp_path / "p/archive/TSK-1.md", TICKET.format(id="TSK-1", title="old"))
    write(tmp_path / "p/tasks/bad.md", "---\ntask_id: TSK-9\ntitle: 'open\n---\n")
    write(tmp_path / "p/tasks/open.md", "---\ntask_id: TSK-8\ntitle: never closed\n")
    write(tmp_path / "p/tasks/ISS-1.md", "---\nid: ISSUE-1\ntype: issue\ncreated: 2025-01-01\nassignee: @bo\n---\n")
    args = ("import", "p", "--db", "l.db", "--now", NOW_TEXT)
    expected = [
        "{} imported, 0 updated, {} unchanged, 0 missing; 2 tickets in p; 2 errors, 1 warning, 1 duplicated id, "
        "0 skipped",
        "Files not imported:",
        "  p/tasks/bad.md:3: invalid YAML frontmatter (while scanning a quoted scalar: found unexpected end of stream)",
        "  p/tasks/open.md:1: frontmatter opened with '---' on line 1 is never closed",
        "1 warning (see --format json for the list)",
        "1 id in several files; the winner is kept, the others are listed with --format json",
    ]
    first = run_cli(*args, cwd=tmp_path)
    assert (first.exit_code, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [expected[0].format(2, 0), *expected[1:]]
    again = run_cli(*args, cwd=tmp_path)  # a re-import reports the same problems: they are still there
    assert again.stdout.splitlines() == [expected[0].format(0, 2), *expected[1:]]
    # A path is shown relative to the current folder when under it, whole otherwise.
    (tmp_path / "elsewhere").mkdir()
    for cwd, shown in ((tmp_path / "p", "tasks/bad.md"), (tmp_path / "elsewhere", str(tmp_path / "p/tasks/bad.md"))):
        result = run_cli("import", str(tmp_path / "p"), "--db", str(tmp_path / "l.db"), "--now", NOW_TEXT, cwd=cwd)
        assert result.exit_code == 0 and result.stdout.splitlines()[2].startswith(f"  {shown}:3: invalid YAML")


def test_tickets_csv_header_and_rows(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), "--format", "csv", "--project", "alpha")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["project", "id", "kind", "status", "priority", "assignee", "due", "estimate_hours", "title"]
    assert [r[:5] for r in rows[1:]] == [["alpha", "TSK-0001", "task", "open", "high"], ["alpha", "TSK-0002", "task",
                                                                                         "open", "high"]]  # fmt: skip


def test_ticket_text_is_printed_literally(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), "--project", "alpha", env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.stderr
    assert "[bold red]styled[/]" in result.stdout  # markup shown, not applied
    assert "\x1b" not in result.stdout and "\\x1b[31mred" in result.stdout  # the escape is made visible
    shown = run_cli("show", "TSK-0002", "--db", str(two_projects), env={"COLUMNS": "160"})
    assert "[bold red]styled[/]" in shown.stdout and "\x1b" not in shown.stdout


def test_tickets_table_fits_80_columns(two_projects: Path) -> None:
    result = run_cli("tickets", "--db", str(two_projects), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    rows = [line for line in lines if "TSK-000" in line]
    assert len(rows) == 3  # one line per ticket: titles are cut, not wrapped
    assert "alpha one" in result.stdout and "gamma one" in result.stdout


def test_sample_agents_listing(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    imported = run_cli("import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml"), "--db", db, "-q", cwd=tmp_path)
    assert imported.exit_code == 0, imported.stderr
    agents = json.loads(run_cli("agents", "--db", db, "--format", "json").stdout)
    assert len(agents) >= 6
    assert {"id", "name", "skills", "capacity_hours", "max_tasks", "availability", "aliases"} <= set(agents[0])
    assert all(0 <= level <= 1 for a in agents for level in a["skills"].values())


# --- start-up -----------------------------------------------------------------------------------


def test_python_m_taskdist_help() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "Usage: taskdist" in result.stdout
    for command in ("init", "import", "agents", "tickets", "show"):
        assert command in result.stdout


def test_import_help_names_its_own_project_option() -> None:
    result = run_cli("import", "--help", env={"COLUMNS": "200"})
    assert "Project name for the imported folder (default: the folder's name)." in result.stdout


HEAVY = ("numpy", "scipy", "sqlite_utils", "yaml")


@pytest.mark.parametrize("args", [["--help"], ["import", "--help"], ["tickets", "--help"], ["show", "--help"]])
def test_help_does_not_import_heavy_modules(args: list[str]) -> None:
    code, loaded, stdout = probe_modules(*args, watched=HEAVY)
    assert "Usage: taskdist" in stdout
    assert (code, loaded) == (0, set()), f"imported at start-up: {sorted(loaded)}"
