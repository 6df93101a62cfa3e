"""`make bench`: run every benchmark module in scripts/benches/, print a table, save the figures as JSON.

Each module of the `benches` package that defines `run(report)` is run in name order (`--only NAME`
picks some). A module records figures with `report.time(...)` (median of several runs, with the
spread) or `report.add(...)`. Results go to bench-results/bench-<time>.json and bench-results/latest.json.
Run with OPENBLAS_NUM_THREADS=1 (the Makefile does): threaded BLAS only adds noise on two cores.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))


@dataclass
class Figure:
    """One measured figure: the median of its samples, their spread, and the target when there is one."""

    bench: str
    name: str
    median: float
    low: float
    high: float
    samples: list[float]
    unit: str = "s"
    target: float | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.median <= self.target else "OVER"


@dataclass
class Report:
    """What a benchmark module writes into."""

    current: str = ""
    figures: list[Figure] = field(default_factory=list)

    def add(
        self, name: str, samples: list[float], unit: str = "s", target: float | None = None, note: str = ""
    ) -> Figure:
        figure = Figure(
            self.current, name, statistics.median(samples), min(samples), max(samples), samples, unit, target, note
        )
        self.figures.append(figure)
        print(f"  {name}: {_fmt(figure)}", flush=True)
        return figure

    def time(
        self, name: str, action: Callable[[], object], repeat: int = 3, target: float | None = None, note: str = ""
    ) -> Figure:
        """Run `action` `repeat` times; wall-clock seconds."""
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            action()
            samples.append(time.perf_counter() - started)
        return self.add(name, samples, "s", target, note)

    def command(
        self, name: str, argv: list[str], repeat: int = 3, target: float | None = None, note: str = ""
    ) -> Figure:
        """Time a command as a user runs it (start-up included), its output thrown away."""
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "NO_COLOR": "1"}

        def action() -> None:
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)

        return self.time(name, action, repeat, target, note)


def _fmt(figure: Figure) -> str:
    if figure.unit == "s":
        text = f"{figure.median:.3f} s (spread {figure.low:.3f}-{figure.high:.3f}, n={len(figure.samples)})"
    else:
        text = f"{figure.median:g} {figure.unit}"
    if figure.target is not None:
        text += f" target <= {figure.target:g} {figure.unit}: {figure.verdict}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="run only this bench module (repeatable)")
    args = parser.parse_args()
    import benches

    names = sorted(m.name for m in pkgutil.iter_modules(benches.__path__))
    report = Report()
    for name in names:
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"benches.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        print(f"[{name}]", flush=True)
        report.current = name
        run(report)
    _print_table(report)
    _save(report)
    return 1 if any(f.verdict == "OVER" for f in report.figures) else 0


def _print_table(report: Report) -> None:
    rows = [("bench", "figure", "median", "spread", "target", "")]
    for f in report.figures:
        unit = f" {f.unit}" if f.unit != "s" else " s"
        rows.append(
            (
                f.bench,
                f.name,
                f"{f.median:.3f}{unit}" if f.unit == "s" else f"{f.median:g}{unit}",
                f"{f.low:.3f}-{f.high:.3f}" if f.unit == "s" else "",
                f"<= {f.target:g}{unit}" if f.target is not None else "",
                f.verdict,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip())


def _save(report: Report) -> None:
    folder = ROOT / "bench-results"
    folder.mkdir(exist_ok=True)
    data: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "figures": [{**asdict(f), "verdict": f.verdict} for f in report.figures],
    }
    text = json.dumps(data, indent=2)
    stamp = data["when"].replace(":", "").replace("-", "")
    (folder / f"bench-{stamp}.json").write_text(text + "\n", encoding="utf-8")
    (folder / "latest.json").write_text(text + "\n", encoding="utf-8")
    print(f"\nsaved bench-results/bench-{stamp}.json")


if __name__ == "__main__":
    sys.exit(main())
