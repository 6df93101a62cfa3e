"""`taskdist import` of generated ticket files, cold (a new ledger) and warm (the same files again).

Targets (issue 7): cold import of 100,000 tickets no slower than the baseline, a plain single-process
loop that reads the same files and parses their frontmatter with PyYAML's C loader
(benches/yaml_baseline.py, start-up included like the CLI's), the two run in turn so that both see
the same drift of the machine's speed; warm re-import of them in at most 2 s.
Both sides read files from the OS page cache: the bench does not drop caches (that needs root and
would disturb everything else on the machine), and it reads every file once, untimed, before the
first timed run, because this machine's memory reclaimer evicts files nobody read for a while (a
baseline run that found them evicted took 66 s instead of 14).

Also, when `../shared/corpus` is there, issue 2's criterion on the real corpus: the first import of its
ai-trackdown folders (each its own project) into a new ledger, then the re-import of the same folders,
which must take under a tenth of the first.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from benches.generate import NOW_TEXT, PROJECT, adopt_ledger, tickets_for
from benches.harness import ROOT, TASKDIST, Report, Sample, measure, measure_alternately

SIZES = ((1_000, 100, 5), (10_000, 100, 3), (100_000, 1_000, 5))  # tickets, agents, runs
BASELINE = str(Path(__file__).with_name("yaml_baseline.py"))
# A cold 100k import took 80 s on a loaded machine: two runs then fill the section's share of the
# 15-minute budget, so more are made only while the runs so far stay under it. Five pairs when they
# do (about two minutes): the verdict compares two medians that each drift by 10-30% on this machine.
LONG_RUNS = 120.0
CORPUS = ROOT.parent / "shared" / "corpus"


def run(report: Report) -> None:
    _corpus(report)
    for count, agents, runs in SIZES:
        if not report.wants(count):
            continue
        folder = tickets_for(count, agents)
        _read_once(folder)
        with tempfile.TemporaryDirectory(prefix="taskdist-bench-") as scratch:
            # Every run writes its output to a file and the last one is checked: the work timed is
            # the work wanted, without an extra untimed run (a minute at 100,000 tickets).
            out, parse_out = Path(scratch) / "out", Path(scratch) / "parse-out"
            db = Path(scratch) / "ledger.db"

            def fresh() -> None:
                for path in Path(scratch).glob("ledger.db*"):
                    path.unlink()

            argv = [
                TASKDIST,
                "import",
                str(folder / "tasks"),
                "--project",
                PROJECT,
                "--roster",
                str(folder / "roster.yaml"),
                "--db",
                str(db),
                "--now",
                NOW_TEXT,
                "--quiet",
                "--format",
                "json",
            ]
            # The baseline and the cold import in turn: both see the same drift of the machine's speed.
            baseline, cold = measure_alternately(
                [sys.executable, BASELINE, str(folder / "tasks")],
                argv,
                report.runs(runs),
                setup_second=fresh,
                max_seconds=2 * LONG_RUNS,
                output_first=parse_out,
                output_second=out,
            )
            files, parsed = map(int, parse_out.read_text(encoding="utf-8").split())
            assert files == parsed == count, f"baseline parsed {parsed} of {files} files, expected {count}"
            first = json.loads(out.read_text(encoding="utf-8"))
            assert first["imported"] == count and not first["errors"], {k: first[k] for k in ("imported", "errors")}
            big = count == 100_000
            report.add(
                f"cold.{count}",
                f"import, cold (new ledger), {count:,} tickets x {agents:,} agents",
                cold,
                baseline_name="C-loader parse loop",
                baseline=baseline,
                target=baseline.median if big else None,
                target_text="<= C-loader baseline" if big else "",
                issue=7 if big else None,
            )
            adopt_ledger(db, count, agents)
            # The ledger of the last cold run is the one re-imported: every ticket unchanged.
            warm = measure(argv, report.runs(5), output=out)
            again = json.loads(out.read_text(encoding="utf-8"))
            assert again["unchanged"] == count and again["imported"] == again["updated"] == 0, again
            report.add(
                f"warm.{count}",
                f"import, warm (same files again), {count:,} tickets",
                warm,
                target=2.0 if big else None,
                issue=7 if big else None,
                note=f"warm/cold {warm.median / cold.median:.3f}",
            )


def _corpus(report: Report) -> None:
    """First import and re-import of the corpus's ai-trackdown folders, as issue 2 states them."""
    if not CORPUS.is_dir():
        print(f"[import] {CORPUS} is not there: the corpus figures are skipped", file=sys.stderr)
        return
    folders = sorted(str(p) for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("other__"))
    for folder in folders:
        _read_once(Path(folder))
    with tempfile.TemporaryDirectory(prefix="taskdist-bench-") as scratch:
        out, db = Path(scratch) / "out", Path(scratch) / "ledger.db"

        def fresh() -> None:
            for path in Path(scratch).glob("ledger.db*"):
                path.unlink()

        argv = [TASKDIST, "import", *folders, "--db", str(db), "--now", NOW_TEXT, "--quiet", "--format", "json"]
        # Rounds of a first import into a new ledger and two re-imports of it: the ratio compares runs
        # taken minutes apart otherwise, and this machine's speed drifts by tens of percent in minutes.
        first, again = Sample(), Sample()
        # Eight rounds: the ratio compares two medians, and the first import alone spreads by 30%.
        for _ in range(report.runs(8)):
            first.extend(measure(argv, 1, setup=fresh, output=out))
            imported = json.loads(out.read_text(encoding="utf-8"))
            assert imported["imported"] > 770, {k: imported[k] for k in ("imported", "tickets")}
            again.extend(measure(argv, 2, output=out))
            result = json.loads(out.read_text(encoding="utf-8"))
            assert result["imported"] == result["updated"] == 0, result
        report.add(
            "corpus.first",
            f"import, corpus: {len(folders)} ai-trackdown folders, new ledger ({imported['tickets']} tickets)",
            first,
        )
        report.add(
            "corpus.again",
            "import, corpus again (nothing changed)",
            again,
            target=first.median / 10,
            target_text="< first import / 10",
            issue=2,
            note=f"again/first {again.median / first.median:.3f}",
        )


def _read_once(folder: Path) -> None:
    """Read every file under `folder` once, untimed, so that every timed run finds them in the page cache."""
    for top, _dirs, names in os.walk(folder):
        for name in names:
            with open(os.path.join(top, name), "rb") as handle:
                while handle.read(1 << 20):
                    pass
