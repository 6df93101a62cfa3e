"""`make bench`: time the real CLI on generated ledgers, print a table, save the figures as JSON.

Sections, in this order: import (cold and warm, beside a plain C-loader parse loop), queue, assign
(beside scipy's dense solver on the same instance), status, simulate, startup. Each figure is the
median of several runs of a new `taskdist` process (start-up included), with the spread (min-max),
the peak RSS, a baseline where there is one and the target where an issue states one. Synthetic
data (1,000, 10,000 and 100,000 tickets; rosters of 100 and 1,000 agents) is generated once and
cached under bench-results/cache/.

    scripts/bench.py                          # the full suite (what `make bench` runs)
    scripts/bench.py --only import,queue      # some sections
    scripts/bench.py --sizes 1000,10000       # some ledger sizes (the issue-4 assign instance is 10000)
    scripts/bench.py --repeat 1 --no-dense    # quick: one run each, no minute-long dense solve
    scripts/bench.py --only peers             # issue 3's peers side by side (not in the default suite)
    scripts/bench.py --render-docs            # docs/performance.md from bench-results/latest.json

Figures go to bench-results/latest.json (and a timestamped copy). `--write-docs` (the Makefile
passes it) also renders docs/performance.md, only from a full default run. Exit status 1 if a
target was missed or a section failed. Run with OPENBLAS_NUM_THREADS=1 (the Makefile does).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from benches import generate  # noqa: E402
from benches.harness import Figure, Report, peak, quantity  # noqa: E402

SECTIONS = {
    "import": "benches.importing",
    "queue": "benches.queue",
    "assign": "benches.assign",
    "status": "benches.status",
    "simulate": "benches.simulate",
    "startup": "benches.startup",
}
# Run only when asked (`--only peers`): installs ai-trackdown-pytools in a venv of its own on first
# use and needs Taskwarrior; its figures are for issue 3's note, not the budgeted suite.
OPTIONAL = {"peers": "benches.peers"}
SIZES = (1_000, 10_000, 100_000)
BUDGET_SECONDS = 15 * 60  # issue 7: the whole `make bench` on this 2-core machine
RESULTS = ROOT / "bench-results"
# Every target an issue states, so that one a failed section never measured is reported as such:
# key -> (issue, section, ledger size or None, what).
TARGETS = {
    "import.cold.100000": (7, "import", 100_000, "cold import, 100,000 tickets, <= C-loader baseline"),
    "import.warm.100000": (7, "import", 100_000, "warm re-import, 100,000 tickets, <= 2 s"),
    "queue.json.100000": (3, "queue", 100_000, "queue --format json, 100,000 tickets, <= 2 s"),
    "assign.issue4": (4, "assign", 10_000, "assign, 10,000 ready x 1,000 agents, <= 3 s"),
    "status.json.100000": (5, "status", 100_000, "status --format json, 100,000 tickets, <= 3 s"),
    "status.json-swept.100000": (5, "status", 100_000, "status --format json after a sweep, 100,000, <= 3 s"),
    "startup.help": (2, "startup", None, "taskdist --help, <= 0.3 s"),
}
DOC = ROOT / "docs" / "performance.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help=f"sections, comma-separated: {','.join(SECTIONS)} (optional: {','.join(OPTIONAL)})",
    )
    parser.add_argument("--sizes", help="ledger sizes in tickets, comma-separated (default: 1000,10000,100000)")
    parser.add_argument("--repeat", type=int, help="runs per measurement (default: each section's own, 3-10)")
    parser.add_argument("--no-dense", action="store_true", help="skip the dense solve of the issue-4 instance")
    parser.add_argument("--json", type=Path, help="write the figures here (default: bench-results/latest.json)")
    parser.add_argument("--write-docs", action="store_true", help=f"also render {DOC.relative_to(ROOT)}")
    parser.add_argument(
        "--render-docs",
        nargs="?",
        const=RESULTS / "latest.json",
        type=Path,
        metavar="JSON",
        help="only render the doc from saved figures (default: bench-results/latest.json)",
    )
    args = parser.parse_args()
    if args.render_docs is not None:
        write_doc(json.loads(args.render_docs.read_text(encoding="utf-8")))
        print(f"wrote {DOC.relative_to(ROOT)} from {args.render_docs}")
        return 0
    only = [s.strip() for part in args.only for s in part.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS) - set(OPTIONAL))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join([*SECTIONS, *OPTIONAL])}")
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else SIZES
    if set(sizes) - set(SIZES):
        parser.error(f"--sizes takes some of {','.join(map(str, SIZES))}")
    full = not only and sizes == SIZES and args.repeat is None and not args.no_dense
    if args.write_docs and not full:
        parser.error("--write-docs needs the full suite (no --only, --sizes, --repeat or --no-dense)")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    started = time.perf_counter()
    load_start = os.getloadavg()
    report = Report(sizes=sizes, repeat=args.repeat, dense=not args.no_dense)
    failed: list[str] = []
    sections: dict[str, dict[str, Any]] = {}
    for name, module_name in {**SECTIONS, **OPTIONAL}.items():
        if (only and name not in only) or (not only and name in OPTIONAL):
            continue
        print(f"[{name}] load {os.getloadavg()[0]:.2f}", flush=True)
        report.section = name
        begun, generated = time.perf_counter(), generate.GENERATION_SECONDS
        try:
            importlib.import_module(module_name).run(report)
        except Exception:  # one broken command must not hide every other figure
            traceback.print_exc()
            failed.append(name)
        sections[name] = {
            "seconds": round(time.perf_counter() - begun, 1),
            "generating_seconds": round(generate.GENERATION_SECONDS - generated, 1),
            "failed": name in failed,
        }
    total = time.perf_counter() - started
    cpu = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    report.section = "bench"
    report.add(
        "total",
        "whole bench, wall" + ("" if full else " (a subset: no budget)"),
        total,
        target=float(BUDGET_SECONDS) if full else None,
        note=f"{generate.GENERATION_SECONDS:.0f} s of it generating data; {cpu:.0f} s CPU",
        issue=7 if full else None,
    )
    data: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "full_suite": full,
        "options": {"only": only or list(SECTIONS), "sizes": list(sizes), "repeat": args.repeat, "dense": report.dense},
        "machine": machine(),
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]},
        "total_seconds": round(total, 1),
        # CPU time of the bench and every process it ran: on an idle machine the wall time is about
        # this (most of the suite runs one process at a time); under load, wall grows and this does not.
        "cpu_seconds": round(cpu, 1),
        "generating_seconds": round(generate.GENERATION_SECONDS, 1),
        "budget_seconds": BUDGET_SECONDS,
        "sections": sections,
        "failed_sections": failed,
        "targets_not_measured": [
            {"key": key, "issue": issue, "what": what}
            for key, (issue, section, size, what) in TARGETS.items()
            if section in sections and (size is None or size in sizes) and key not in {f.key for f in report.figures}
        ],
        "figures": [f.as_dict() for f in report.figures],
    }
    print_table(report.figures)
    print(f"\nload average start {load_start[0]:.2f} {load_start[1]:.2f}, end {os.getloadavg()[0]:.2f}")
    path = save(data, args.json)
    print(f"saved {path}")
    if args.write_docs:
        write_doc(data)
        print(f"wrote {DOC.relative_to(ROOT)}")
    if failed:
        print(f"FAILED sections: {', '.join(failed)}", file=sys.stderr)
    for gap in data["targets_not_measured"]:
        print(f"target not measured (issue {gap['issue']}): {gap['what']}", file=sys.stderr)
    missed = [f.key for f in report.figures if f.verdict == "OVER"]
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
    return 1 if failed or missed else 0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for row in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(row.split()[1])
            for row in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
            if row.startswith("MemTotal:")
        )
        ram = f"{mem_kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration, ValueError):
        ram = "unknown"
    versions = {}
    for package in ("numpy", "scipy", "PyYAML", "sqlite-utils", "typer", "rich"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return {
        "cpu": model or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }


def save(data: dict[str, Any], path: Path | None) -> Path:
    text = json.dumps(data, indent=2) + "\n"
    if path is not None:
        path.write_text(text, encoding="utf-8")
        return path
    RESULTS.mkdir(exist_ok=True)
    stamp = str(data["when"]).replace(":", "").replace("-", "")
    (RESULTS / f"bench-{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    return RESULTS / "latest.json"


def print_table(figures: list[Figure]) -> None:
    rows = [("section", "figure", "median (min-max, runs)", "peak RSS", "baseline", "target", "", "load")]
    for f in figures:
        base = f"{f.baseline_name}: {quantity(f.baseline, f.unit)}" if f.baseline_name else ""
        rows.append(
            (
                f.section,
                f.name,
                quantity(f.value, f.unit),
                peak(f.value),
                base.rstrip(": "),
                f.target_text,
                f.verdict,
                f"{f.load:.1f}",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip())


# --- docs/performance.md ---------------------------------------------------------------------------------


def _cell(part: dict[str, Any] | None, unit: str) -> str:
    if not part or part.get("median") is None:
        return ""
    if unit != "s":
        return f"{part['median']:.4g} {unit}"
    if part.get("runs", 1) == 1:
        return f"{part['median']:.3f} s" + (" (once)" if "samples" in part else "")
    return f"{part['median']:.3f} s ({part['low']:.3f}-{part['high']:.3f}, n={part['runs']})"


def _rss(part: dict[str, Any] | None) -> str:
    return f"{part['peak_rss_mb']:.0f} MB" if part and part.get("peak_rss_mb") else ""


def _verdict(f: dict[str, Any]) -> str:
    return {"ok": "met", "OVER": "**missed**"}.get(f["verdict"], "")


def write_doc(data: dict[str, Any]) -> None:
    """Render docs/performance.md from one run's JSON."""
    m = data["machine"]
    load = data["load_average"]
    figures = data["figures"]
    total = data["total_seconds"]
    out = [
        "# Performance",
        "",
        "<!-- Generated by `make bench` (scripts/bench.py --write-docs); re-render with",
        "     `scripts/bench.py --render-docs`. Do not edit by hand. -->",
        "",
        f"The latest full `make bench`, run {data['when']}. Every timed figure runs the real CLI in a new",
        "process, start-up included, with `OPENBLAS_NUM_THREADS=1`: the median of several runs, their",
        "spread (min-max) and count, and the peak resident memory (the largest process, workers",
        "included). Beside a figure, its baseline measured in the same run; targets come from the issues.",
        "The data is generated (scripts/benches/generate.py: roles of skills, dependency chains inside",
        "work streams, due dates, both ticket dialects) and imported through the real importer.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| RAM | {m['ram']} |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']}, SQLite {m['sqlite']} |",
        "| packages | " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + " |",
        f"| load average (1, 5, 15 min) | start {' '.join(map(str, load['start']))}; "
        f"end {' '.join(map(str, load['end']))} |",
        f"| whole bench | {total:.0f} s wall (budget {data['budget_seconds']} s), "
        f"{data['generating_seconds']:.0f} s of it generating data"
        + (f"; {data['cpu_seconds']:.0f} s CPU (bench and every process it ran)" if "cpu_seconds" in data else "")
        + " |",
        "",
        "A load average above the core count means other work shared the machine: timings are then",
        "inflated; ratios to the baselines measured in the same run hold better than absolute seconds.",
        "",
        "## Targets",
        "",
        "| issue | figure | measured | baseline | target | |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        if f.get("target") is None:
            continue
        base = f"{f['baseline']['name']}: {_cell(f['baseline'], f['unit'])}" if f.get("baseline") else ""
        out.append(
            f"| {f.get('issue') or ''} | {f['name']} | {_cell(f, f['unit'])} | {base.rstrip(': ')} "
            f"| {f['target_text']} | {_verdict(f)} |"
        )
    for gap in data.get("targets_not_measured", []):
        out.append(f"| {gap['issue']} | {gap['what']} | not measured |  |  | **missed** |")
    if data.get("failed_sections"):
        out += ["", f"Sections that failed in this run: {', '.join(data['failed_sections'])}."]
    for section in [*data["sections"], "bench"]:
        rows = [f for f in figures if f["section"] == section]
        if not rows:
            continue
        spent = data["sections"].get(section, {}).get("seconds")
        out += ["", f"## {section}" + (f" ({spent:.0f} s)" if spent is not None else ""), ""]
        out += ["| figure | median (min-max, runs) | peak RSS | baseline | load | note |", "|---|---|---|---|---|---|"]
        for f in rows:
            base = ""
            if f.get("baseline"):
                b = f["baseline"]
                base = f"{b['name']}: {_cell(b, f['unit'])}".rstrip(": ")
                if _rss(b):
                    base += f", {_rss(b)}"
            note = "; ".join(
                x for x in (f["note"], f"target {f['target_text']} {_verdict(f)}" if f["target_text"] else "") if x
            )
            out.append(f"| {f['name']} | {_cell(f, f['unit'])} | {_rss(f)} | {base} | {f['load1']} | {note} |")
    out += [
        "",
        "## How it is measured",
        "",
        "- `make bench` runs `scripts/bench.py --write-docs`; `scripts/bench.py --help` lists the options for",
        "  running some sections or sizes. Figures are also in bench-results/latest.json.",
        "- Cold import: a new ledger each run; warm: the same files into the ledger the cold run left.",
        "  The files are in the OS page cache for both the import and its baseline. The cold import and",
        "  its baseline run in turn (baseline, import, baseline, ...), and the corpus figures in rounds (a",
        "  first import, then two re-imports), so that each pair sees the same drift of the machine's speed.",
        "- Import baseline: scripts/benches/yaml_baseline.py, one process reading every file and parsing",
        "  its frontmatter with `yaml.CSafeLoader`, nothing else.",
        "- Assign baseline: `scipy.optimize.linear_sum_assignment` on the tickets x slots matrix of the",
        "  instance the command solves (built in-process with the same library calls), without the hour",
        "  limit: the exact slot optimum, an upper bound of the plan. The issue-4 instance's dense solve",
        "  takes over a minute, so it is timed once.",
        "- Peak RSS is `ru_maxrss` from `wait4`: the largest single process, not the sum of workers.",
        "- Simulate runs on the 1,000-ticket ledger and the sample project only; larger ledgers take",
        "  minutes per run.",
        "",
    ]
    DOC.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
