"""Generate docs/status.svg: `taskdist status` on the sample project, 80 columns wide, as `make run` shows it.

The sample is imported into a temporary ledger with the pinned clock of `make run`, so the picture
is the same on every machine. `--check` exits 1 when the checked-in picture differs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from taskdist.config import Config, Source  # noqa: E402
from taskdist.importer import import_sources  # noqa: E402
from taskdist.ledger.db import open_ledger  # noqa: E402
from taskdist.render import Output  # noqa: E402
from taskdist.render.status import render_status  # noqa: E402
from taskdist.status import build_status  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # RUN_NOW in the Makefile
TARGET = ROOT / "docs" / "status.svg"


def render(target: Path) -> None:
    sample = ROOT / "sample_tasks"
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(Path(folder) / "ledger.db", create=True)
        try:
            import_sources(ledger, [Source(path=str(sample))], Config(), NOW, roster=sample / "roster.yaml")
            report = build_status(ledger, Config(), NOW)
        finally:
            ledger.close()
    out = Output(fmt="table", export=str(target), width=80)
    with contextlib.redirect_stdout(io.StringIO()):
        render_status(out, report)
    out.finish()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/status.svg is not current")
    args = parser.parse_args()
    if not args.check:
        render(TARGET)
        print(f"wrote {TARGET.relative_to(ROOT)}")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "status.svg"
        render(fresh)
        if not TARGET.exists() or fresh.read_bytes() != TARGET.read_bytes():
            print(f"{TARGET.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
