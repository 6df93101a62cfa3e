"""Nothing lost: a ticket whose file turns unreadable keeps its last good version, flagged, with the reason.

Every way a file can turn bad (broken YAML, binary bytes, an alias bomb, too big, too deep, a symbolic
link loop or a named pipe in its place, no read permission) leaves the ticket in the ledger as it was
last read, with `tickets.read_error` naming the reason and the file; `show` and the import report say
so. Fixing the file clears the flag, even when the fix leaves size and mtime as they were (chmod, a
limit raised in taskdist.yaml). A deleted file flags its ticket missing; the ticket is never deleted.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from taskdist.config import Config, LimitsConfig, Source
from taskdist.importer import ImportReport, import_sources
from taskdist.ledger.db import open_ledger
from tests.conftest import NOW, NOW_TEXT, run_cli
from tests.hostile_files import alias_bomb, ticket

LATER = NOW + timedelta(hours=1)
LATEST = NOW + timedelta(hours=2)


def do_import(db: Path, root: Path, config: Config | None = None, when: Any = NOW) -> ImportReport:
    ledger = open_ledger(db, create=True)
    try:
        return import_sources(ledger, [Source(path=str(root), project="p")], config or Config(), when)
    finally:
        ledger.close()


def row(db: Path, ticket_id: str) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT * FROM tickets WHERE project = 'p' AND id = ?", (ticket_id,)).fetchone()
    finally:
        conn.close()
    assert found is not None, f"ticket {ticket_id} was deleted from the ledger"
    return dict(found)


def events(db: Path, ticket_id: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT kind FROM events WHERE ticket = ? ORDER BY id", (ticket_id,))]
    finally:
        conn.close()


@contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """No read permission on `path`: chmod 000, and for root (who reads anything) a refused open() too."""
    path.chmod(0)
    try:
        if os.geteuid() != 0:
            yield
        else:
            with _refused_open(path):
                yield
    finally:
        path.chmod(0o644)


@contextmanager
def _refused_open(path: Path) -> Iterator[None]:
    real_open = os.open
    target = str(path)

    def refuse(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", refuse)
        yield


def _broken_yaml(path: Path) -> None:
    path.write_text("---\nid: KEEP-1\ntitle: 'never closed quote\n---\n", encoding="utf-8")


def _binary(path: Path) -> None:
    path.write_bytes(b"---\nid: KEEP-1\n---\n\x00\x01\x02")


def _alias_bomb(path: Path) -> None:
    path.write_text(alias_bomb().replace("BOMB-1", "KEEP-1"), encoding="utf-8")


def _too_deep(path: Path) -> None:
    path.write_text(f"---\nid: KEEP-1\nx: {'[' * 500}{']' * 500}\n---\n", encoding="utf-8")


def _too_big(path: Path) -> None:
    path.write_text(ticket("KEEP-1", "big") + "x" * 6_000_000, encoding="utf-8")


def _symlink_loop(path: Path) -> None:
    path.unlink()
    os.symlink(path.name, path)


def _named_pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _no_frontmatter(path: Path) -> None:
    path.write_text("just some notes, no frontmatter\n", encoding="utf-8")


BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "broken-yaml": (_broken_yaml, "invalid YAML"),
    "binary": (_binary, "binary content"),
    "alias-bomb": (_alias_bomb, "limits.max_yaml_nodes"),
    "too-deep": (_too_deep, "limits.max_yaml_depth"),
    "too-big": (_too_big, "limits.max_file_bytes"),
    "symlink-loop": (_symlink_loop, "symbolic link loop"),
    "named-pipe": (_named_pipe, "not a regular file"),
    "no-frontmatter": (_no_frontmatter, "not a ticket"),
}


def _good(root: Path) -> tuple[Path, Path]:
    keep = root / "KEEP-1.md"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text(ticket("KEEP-1", "last good title", "assignee: alex\n"), encoding="utf-8")
    other = root / "OTHER-1.md"
    other.write_text(ticket("OTHER-1", "bystander"), encoding="utf-8")
    return keep, other


def _assert_flagged(db: Path, report: ImportReport, keep: Path, fragment: str) -> None:
    kept = row(db, "KEEP-1")
    assert (kept["title"], kept["assignee"], kept["missing"]) == ("last good title", "alex", 0)
    assert kept["read_error"] is not None and fragment in kept["read_error"] and str(keep) in kept["read_error"]
    (error,) = [e for e in report.errors if e["path"] == str(keep)]
    assert fragment in error["reason"] and error["kept"] == "KEEP-1"
    assert report.tickets == 2
    assert row(db, "OTHER-1")["read_error"] is None


@pytest.mark.parametrize("how", list(BREAKERS))
def test_a_file_turned_bad_keeps_its_ticket_flagged_until_fixed(tmp_path: Path, how: str) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    keep, _ = _good(root)
    assert do_import(db, root).imported == 2
    breaker, fragment = BREAKERS[how]
    breaker(keep)

    report = do_import(db, root, when=LATER)
    _assert_flagged(db, report, keep, fragment)
    assert events(db, "KEEP-1") == ["imported", "read_error"]
    # The same failure on the next run: reported again, nothing written again.
    again = do_import(db, root, when=LATEST)
    _assert_flagged(db, again, keep, fragment)
    assert events(db, "KEEP-1") == ["imported", "read_error"]

    if keep.is_symlink() or not keep.is_file():
        keep.unlink()
    keep.write_text(ticket("KEEP-1", "fixed title", "assignee: alex\n"), encoding="utf-8")
    fixed = do_import(db, root, when=LATEST)
    assert not fixed.errors and fixed.updated == 1
    back = row(db, "KEEP-1")
    assert (back["title"], back["read_error"], back["missing"]) == ("fixed title", None, 0)
    assert events(db, "KEEP-1") == ["imported", "read_error", "updated"]


def test_permission_lost_and_restored_without_touching_the_file(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    keep, _ = _good(root)
    do_import(db, root)
    stamp = keep.stat()
    with unreadable(keep):
        report = do_import(db, root, when=LATER)
    _assert_flagged(db, report, keep, "permission denied")
    # chmod back changes neither size nor mtime: the failed file is read again all the same.
    assert (keep.stat().st_size, keep.stat().st_mtime_ns) == (stamp.st_size, stamp.st_mtime_ns)
    restored = do_import(db, root, when=LATEST)
    assert not restored.errors
    assert row(db, "KEEP-1")["read_error"] is None
    assert events(db, "KEEP-1") == ["imported", "read_error", "restored"]


def test_raising_a_limit_in_the_config_brings_a_refused_file_in_without_touching_it(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    _good(root)
    (root / "BIG-1.md").write_text(ticket("BIG-1", "big", body="y" * 3000), encoding="utf-8")
    tight = Config()._replace(limits=LimitsConfig(max_file_bytes=2000))
    report = do_import(db, root, tight)
    assert [Path(e["path"]).name for e in report.errors] == ["BIG-1.md"]
    assert "limits.max_file_bytes" in report.errors[0]["reason"]
    wider = do_import(db, root, Config(), when=LATER)
    assert (wider.errors, wider.imported) == ([], 1)
    assert row(db, "BIG-1")["title"] == "big"


def test_deleted_file_flags_the_ticket_missing_and_never_deletes_it(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    keep, _ = _good(root)
    do_import(db, root)
    _broken_yaml(keep)
    do_import(db, root, when=LATER)
    assert row(db, "KEEP-1")["read_error"] is not None
    keep.unlink()
    report = do_import(db, root, when=LATEST)
    gone = row(db, "KEEP-1")
    assert (gone["missing"], gone["read_error"], gone["title"]) == (1, None, "last good title")
    assert (report.missing, report.tickets, report.errors) == (1, 2, [])
    assert events(db, "KEEP-1") == ["imported", "read_error", "missing"]
    assert do_import(db, root, when=LATEST).missing == 0  # flagged once
    keep.write_text(ticket("KEEP-1", "last good title", "assignee: alex\n"), encoding="utf-8")
    do_import(db, root, when=LATEST)
    assert row(db, "KEEP-1")["missing"] == 0
    assert events(db, "KEEP-1")[-1] == "restored"


def test_show_and_the_import_report_put_the_error_beside_the_ticket(tmp_path: Path) -> None:
    root, db = tmp_path / "p", tmp_path / "l.db"
    keep, _ = _good(root)
    common = ("--db", str(db), "--now", NOW_TEXT)
    assert run_cli("import", str(root), "--project", "p", *common).exit_code == 0
    _binary(keep)

    imported = run_cli("import", str(root), "--project", "p", *common, env={"COLUMNS": "250"})
    assert imported.exit_code == 0, imported.stderr
    assert "binary content (NUL bytes): not a text ticket; ticket KEEP-1 keeps its last good version" in imported.stdout
    as_json = json.loads(run_cli("import", str(root), "--project", "p", *common, "--format", "json").stdout)
    assert [(e["kept"], "binary content" in e["reason"]) for e in as_json["errors"]] == [("KEEP-1", True)]

    shown = run_cli("show", "KEEP-1", *common)
    assert shown.exit_code == 0, shown.stderr
    assert "last good title" in shown.stdout
    flag = " ".join(line.strip() for line in shown.stdout.splitlines() if "unreadable" in line or "binary" in line)
    assert "its file is unreadable now (binary content" in flag
    details = json.loads(run_cli("show", "KEEP-1", *common, "--format", "json").stdout)
    assert details["title"] == "last good title"
    assert "binary content" in details["flags"]["read_error"] and str(keep) in details["flags"]["read_error"]

    keep.write_text(ticket("KEEP-1", "last good title", "assignee: alex\n"), encoding="utf-8")
    assert run_cli("import", str(root), "--project", "p", *common).exit_code == 0
    details = json.loads(run_cli("show", "KEEP-1", *common, "--format", "json").stdout)
    assert details["flags"]["read_error"] is None
