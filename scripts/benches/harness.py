"""The measuring part of `make bench`: run a command several times, keep wall time and peak memory.

Every figure that times taskdist runs the real CLI in a new process, as a user does, so start-up is
always included. Each run goes through benches/spawn.py, a small process that times the command
and reads its peak memory (maximum resident set size, from `wait4`): the largest of the process and
every child it waited for (the import's worker processes, the forked writers of `queue`), not their
sum. A figure is the median of its runs, with the spread (min-max), and can carry a baseline
measured the same way in the same run, and a target from an issue.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TASKDIST = str(Path(sys.executable).parent / "taskdist")
SPAWN = str(Path(__file__).with_name("spawn.py"))
# What the Makefile sets too: threaded BLAS only adds noise on two cores.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "80"}


class CommandFailed(RuntimeError):
    """A measured command exited non-zero."""


@dataclass
class Sample:
    """The runs of one measurement: wall seconds and peak RSS (MB) of each."""

    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    note: str = ""
    command: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def extend(self, other: Sample) -> Sample:
        """This sample with `other`'s runs added (measurements taken in rounds)."""
        self.seconds += other.seconds
        self.rss_mb += other.rss_mb
        self.command = self.command or other.command
        return self

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "median": self.median,
            "low": min(self.seconds),
            "high": max(self.seconds),
            "runs": len(self.seconds),
            "samples": [round(s, 4) for s in self.seconds],
            "peak_rss_mb": round(max(self.rss_mb), 1) if self.rss_mb else None,
        }
        if self.note:
            out["note"] = self.note
        if self.command:
            out["command"] = self.command
        return out


def run_once(argv: Sequence[str], cwd: Path = ROOT, output: Path | None = None) -> tuple[float, float]:
    """Run `argv` once, its output thrown away or written to `output`; (wall seconds, peak RSS in MB),
    both as spawn.py reports them. Raises CommandFailed on a non-zero exit."""
    with (
        tempfile.TemporaryDirectory(prefix="taskdist-bench-") as scratch,
        tempfile.TemporaryFile() as err,
        open(output or os.devnull, "wb") as out,
    ):
        result = Path(scratch) / "result.json"
        code = subprocess.call([sys.executable, SPAWN, str(result), *argv], cwd=cwd, env=ENV, stdout=out, stderr=err)
        if code != 0:
            err.seek(0)
            text = err.read().decode(errors="replace").strip()[-2000:]
            raise CommandFailed(f"{' '.join(argv)} exited {code}: {text}")
        figures = json.loads(result.read_text(encoding="utf-8"))
    return float(figures["seconds"]), figures["rss_kb"] / 1024.0


def capture(argv: Sequence[str], cwd: Path = ROOT) -> str:
    """Run `argv` once, untimed, and return its standard output (to check what is being timed)."""
    return subprocess.run(list(argv), cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def measure(
    argv: Sequence[str],
    repeat: int,
    *,
    setup: Callable[[], object] | None = None,
    max_seconds: float | None = None,
    cwd: Path = ROOT,
    output: Path | None = None,
) -> Sample:
    """Run `argv` `repeat` times (`setup` before each, untimed). With `max_seconds`, stop early once
    the runs so far took that long and there are at least two (long measurements on a tight budget).
    With `output`, every run writes its standard output there (the last one stays, to be checked).
    """
    sample = Sample(command=" ".join(argv).replace(str(ROOT) + "/", ""))
    repeat = max(1, repeat)
    for run in range(1, repeat + 1):
        if setup is not None:
            setup()
        seconds, rss = run_once(argv, cwd, output)
        sample.seconds.append(seconds)
        sample.rss_mb.append(rss)
        if max_seconds is not None and 2 <= run < repeat and sum(sample.seconds) >= max_seconds:
            sample.note = f"{len(sample.seconds)} of {repeat} runs (time budget {max_seconds:g} s)"
            break
    return sample


def measure_alternately(
    first: Sequence[str],
    second: Sequence[str],
    repeat: int,
    *,
    setup_first: Callable[[], object] | None = None,
    setup_second: Callable[[], object] | None = None,
    max_seconds: float | None = None,
    output_first: Path | None = None,
    output_second: Path | None = None,
) -> tuple[Sample, Sample]:
    """Two measurements whose runs alternate (first, second, first, ...), for a figure compared with
    another: this machine's speed drifts by tens of percent within minutes, and runs taken in turn
    see the same drift. Stops early as `measure` does, on the two's total time."""
    one, two = Sample(), Sample()
    repeat = max(1, repeat)
    for run in range(1, repeat + 1):
        one.extend(measure(first, 1, setup=setup_first, output=output_first))
        two.extend(measure(second, 1, setup=setup_second, output=output_second))
        if max_seconds is not None and 2 <= run < repeat and sum(one.seconds) + sum(two.seconds) >= max_seconds:
            one.note = two.note = f"{run} of {repeat} runs (time budget {max_seconds:g} s)"
            break
    return one, two


def time_call(action: Callable[[], object], repeat: int) -> Sample:
    """Time an in-process call (for solver baselines, which have no CLI); no RSS."""
    sample = Sample()
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        action()
        sample.seconds.append(time.perf_counter() - started)
    return sample


@dataclass
class Figure:
    """One line of the report: a measurement, its baseline and target when there are ones."""

    section: str
    key: str
    name: str
    value: Sample | float
    unit: str = "s"
    baseline_name: str = ""
    baseline: Sample | float | None = None
    target: float | None = None
    target_text: str = ""
    note: str = ""
    load: float = 0.0
    issue: int | None = None

    @property
    def median(self) -> float:
        return self.value.median if isinstance(self.value, Sample) else self.value

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.median <= self.target else "OVER"

    def as_dict(self) -> dict[str, Any]:
        def part(value: Sample | float | None) -> dict[str, Any] | None:
            if value is None:
                return None
            return value.as_dict() if isinstance(value, Sample) else {"median": value, "runs": 1}

        return {
            "section": self.section,
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            **(part(self.value) or {}),
            "baseline": {"name": self.baseline_name, **(part(self.baseline) or {})} if self.baseline_name else None,
            "target": self.target,
            "target_text": self.target_text,
            "verdict": self.verdict,
            "issue": self.issue,
            "note": self.note,
            "load1": round(self.load, 2),
        }


@dataclass
class Report:
    """What the bench sections write into, and the options they read (sizes, repeats, dense)."""

    sizes: tuple[int, ...]
    repeat: int | None = None
    dense: bool = True
    section: str = ""
    figures: list[Figure] = field(default_factory=list)

    def runs(self, default: int) -> int:
        """The number of runs for a measurement: `--repeat` if given, else the section's default."""
        return self.repeat if self.repeat is not None else default

    def wants(self, size: int) -> bool:
        return size in self.sizes

    def add(
        self,
        key: str,
        name: str,
        value: Sample | float,
        *,
        unit: str = "s",
        baseline_name: str = "",
        baseline: Sample | float | None = None,
        target: float | None = None,
        target_text: str = "",
        note: str = "",
        issue: int | None = None,
    ) -> Figure:
        if isinstance(value, Sample) and value.note:
            note = f"{note}; {value.note}" if note else value.note
        if isinstance(baseline, Sample) and baseline.note:
            note = f"{note}; baseline {baseline.note}" if note else f"baseline {baseline.note}"
        figure = Figure(
            self.section,
            f"{self.section}.{key}",
            name,
            value,
            unit,
            baseline_name,
            baseline,
            target,
            target_text or (f"<= {target:g} {unit}" if target is not None else ""),
            note,
            os.getloadavg()[0],
            issue,
        )
        self.figures.append(figure)
        print(f"  {line(figure)}", flush=True)
        return figure


def quantity(value: Sample | float | None, unit: str) -> str:
    """`1.234 s (1.2-1.3, n=3)` for a sample, `12.5 %` for a single figure."""
    if value is None:
        return ""
    if isinstance(value, Sample):
        if len(value.seconds) == 1:
            return f"{value.median:.3f} s (once)"
        return f"{value.median:.3f} s ({min(value.seconds):.3f}-{max(value.seconds):.3f}, n={len(value.seconds)})"
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:.4g} {unit}"


def peak(value: Sample | float | None) -> str:
    if isinstance(value, Sample) and value.rss_mb:
        return f"{max(value.rss_mb):.0f} MB"
    return ""


def line(figure: Figure) -> str:
    text = f"{figure.name}: {quantity(figure.value, figure.unit)}"
    if peak(figure.value):
        text += f", peak {peak(figure.value)}"
    if figure.baseline_name:
        text += f" | {figure.baseline_name}: {quantity(figure.baseline, figure.unit)}"
    if figure.target_text:
        text += f" | target {figure.target_text}: {figure.verdict}"
    if figure.note:
        text += f" [{figure.note}]"
    return text
