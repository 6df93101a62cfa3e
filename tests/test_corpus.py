"""The real corpus: every ai-trackdown folder imports as its own project, nothing silently dropped.

The expectation is computed here independently of taskdist's reader: split the frontmatter by
hand, quote unquoted `@` values, load it with PyYAML's BaseLoader (every scalar a string, so
`epic_id: 012` stays "012") and take the id the way FORMATS.md defines it (`id`, else `task_id`,
`pr_id`, `comment_id`, `issue_id`, `epic_id`, `project_id`). Files without such an id may still
become tickets (legacy bold-line files, ids in file names); they are checked to be exactly those.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from taskdist.config import Config, Source
from taskdist.importer import ImportFailed, ImportReport, import_sources
from taskdist.ledger import tickets as store
from taskdist.ledger.db import open_ledger
from tests.conftest import NOW
from tests.ledger_tools import dump

_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
ID_KEYS = ("task_id", "pr_id", "comment_id", "issue_id", "epic_id", "project_id")
TEMPLATE_DIRS = {"templates", "template", "_templates"}
_AT_FLOW = re.compile(r"([\[,]\s*)(@[^,\]\n]*?)(\s*(?=[,\]]))")
_AT_BLOCK = re.compile(r"^(\s*(?:-\s+)?(?:[^\s:#'\"][^:#\n]*:\s+)?)(@[^\n#]*?)(\s*(?:#.*)?)$", re.MULTILINE)


def frontmatter_id(path: Path) -> str | None:
    """The id a file's frontmatter declares, or None (no frontmatter, unreadable YAML, no id)."""
    text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if closing is None:
        return None
    block = "\n".join(lines[1:closing])
    try:
        data = yaml.load(block, Loader=_Loader)
    except yaml.YAMLError:
        quoted = _AT_FLOW.sub(lambda m: m[1] + json.dumps(m[2]) + m[3], block)
        quoted = _AT_BLOCK.sub(lambda m: m[1] + json.dumps(m[2].rstrip()) + m[3], quoted)
        try:
            data = yaml.load(quoted, Loader=_Loader)
        except yaml.YAMLError:
            return None
    if not isinstance(data, dict):
        return None
    keys = ("id",) if "id" in data else ID_KEYS
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def markdown_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d.lower() not in TEMPLATE_DIRS]
        found.extend(Path(folder) / f for f in files if f.lower().endswith((".md", ".markdown")))
    return found


def template_dirs(root: Path) -> set[str]:
    """The outermost templates folders (what is inside one is never walked)."""
    found: set[str] = set()
    for folder, dirs, _ in os.walk(root):
        found.update(str(Path(folder) / d) for d in dirs if d.lower() in TEMPLATE_DIRS)
        dirs[:] = [d for d in dirs if d.lower() not in TEMPLATE_DIRS]
    return found


def import_folders(db: Path, folders: list[Path], now: datetime = NOW) -> ImportReport:
    ledger = open_ledger(db, create=True)
    try:
        return import_sources(ledger, [Source(str(f), project=f.name) for f in folders], Config(), now)
    finally:
        ledger.close()


def event_count(db: Path) -> int:
    return sum(len(rows) for table, rows in dump(db).items() if table == "events")


def ledger_tickets(db: Path, project: str) -> dict[str, str]:
    """id -> source path of every ticket of a project."""
    ledger = open_ledger(db)
    try:
        return {t.id: t.path for t in store.iter_tickets(ledger, project=project)}
    finally:
        ledger.close()


def assert_accounted_for(root: Path, report: ImportReport, tickets: dict[str, str]) -> None:
    """Every markdown file is a ticket's source, a dropped duplicate, an error or skipped, with a reason."""
    project = root.name
    errors = {e["path"] for e in report.errors if e["project"] == project}
    skipped = {s["path"] for s in report.skipped if s["project"] == project}
    dropped = {p for d in report.duplicates if d["project"] == project for p in d["dropped"]}
    sources = set(tickets.values())
    assert not sources & errors and not sources & dropped
    for path in map(str, markdown_files(root)):
        assert path in sources | errors | skipped | dropped, f"{path} was dropped without a word"
    assert template_dirs(root) <= skipped
    for item in [*report.errors, *report.skipped]:
        assert item["reason"], item


def test_ai_trackdown_corpus_imports_one_ticket_per_id(corpus: Path, tmp_path: Path) -> None:
    folders = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("other__"))
    assert len(folders) >= 10
    db = tmp_path / "corpus.db"
    report = import_folders(db, folders)

    total = 0
    for root in folders:
        tickets = ledger_tickets(db, root.name)
        total += len(tickets)
        holders: dict[str, list[str]] = {}
        no_frontmatter_id = set()
        for path in markdown_files(root):
            found = frontmatter_id(path)
            if found is None:
                no_frontmatter_id.add(str(path))
            else:
                holders.setdefault(found, []).append(str(path))
        # One ticket for each distinct id among the files with readable frontmatter...
        assert set(holders) <= set(tickets), f"{root.name}: ids without a ticket: {sorted(set(holders) - set(tickets))}"
        # ...read from one of the files that carry that id...
        for ticket_id, paths in holders.items():
            assert tickets[ticket_id] in paths, (root.name, ticket_id)
        # ...and any further ticket comes from a file whose frontmatter names no id (bold lines, file names).
        for ticket_id in set(tickets) - set(holders):
            assert tickets[ticket_id] in no_frontmatter_id, (root.name, ticket_id, tickets[ticket_id])
        assert_accounted_for(root, report, tickets)
    assert total == report.tickets > 770

    events = event_count(db)
    again = import_folders(db, folders, NOW + timedelta(days=9))
    assert (again.imported, again.updated, again.files_read) == (0, 0, 0)
    assert again.unchanged == total
    assert event_count(db) == events
    # Every problem is listed again, in the same words and order (warnings come back from the ledger).
    listed = ("errors", "warnings", "duplicates", "skipped")
    assert [getattr(again, k) for k in listed] == [getattr(report, k) for k in listed]
    assert len(report.warnings) > 10


def test_other_formats_import_with_reasons_for_the_rest(corpus: Path, tmp_path: Path) -> None:
    folders = sorted(p for p in corpus.iterdir() if p.is_dir() and p.name.startswith("other__"))
    assert folders
    counts = {}
    for index, root in enumerate(folders):
        db = tmp_path / f"other{index}.db"
        try:
            report = import_folders(db, [root])
        except ImportFailed as failed:  # a folder without a single readable ticket: still every reason
            report = failed.report
        tickets = ledger_tickets(db, root.name)
        counts[root.name] = len(tickets)
        for path in markdown_files(root):
            found = frontmatter_id(path)
            if found is not None:
                assert tickets.get(found) is not None, (root.name, found)
        assert_accounted_for(root, report, tickets)
    # Backlog.md, roadmap, CCPM and yoda carry ids (in frontmatter, paths or file names).
    assert all(counts[name] > 0 for name in counts if "mgoellnitz" not in name), counts
