"""End to end: the sample project imports, with its two broken files reported."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import NOW_TEXT, SAMPLE, run_cli


def test_sample_import_json(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    result = run_cli(
        "import",
        str(SAMPLE),
        "--roster",
        str(SAMPLE / "roster.yaml"),
        "--db",
        db,
        "--now",
        NOW_TEXT,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == report["tickets"] >= 40
    assert sorted(Path(e["path"]).name for e in report["errors"]) == [
        "ISS-0099-broken-unclosed-frontmatter.md",
        "TSK-0099-broken-yaml.md",
    ]
    again = json.loads(run_cli("import", str(SAMPLE), "--db", db, "--now", NOW_TEXT, "--format", "json").stdout)
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, report["tickets"])
