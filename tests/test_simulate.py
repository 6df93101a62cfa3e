"""`taskdist simulate`: determinism, the strategies compared on the sample project and a generated backlog, the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from taskdist.config import Config, Source
from taskdist.errors import UsageError
from taskdist.importer import import_sources
from taskdist.ledger.db import open_ledger
from taskdist.planning import Context, load_context
from taskdist.simulate import ALL_STRATEGIES, METRICS, SimulationReport, simulate
from tests.conftest import NOW, NOW_TEXT, ROOT, SAMPLE, run_cli

BASELINES = [s for s in ALL_STRATEGIES if s != "optimal"]


def _context(db: Path, folder: Path, roster: Path, project: str) -> Context:
    ledger = open_ledger(db, create=True)
    try:
        import_sources(ledger, [Source(path=str(folder), project=project)], Config(), NOW, roster=roster)
        return load_context(ledger, Config(), NOW)
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Context:
    return _context(tmp_path_factory.mktemp("sim") / "l.db", SAMPLE, SAMPLE / "roster.yaml", "sample")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Context:
    """~190 open tickets and 12 agents from the benchmark generator (roles, dependencies, due dates)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from benches.generate import write_roster, write_tickets

    base = tmp_path_factory.mktemp("gen")
    write_tickets(base, 300, 5, 12)
    write_roster(base / "roster.yaml", 12, 5)
    return _context(base / "l.db", base / "tasks", base / "roster.yaml", "gen")


_COMPARED: dict[str, SimulationReport] = {}


def _compare(name: str, ctx: Context) -> SimulationReport:
    """Every strategy over 20 seeds (computed once per case)."""
    if name not in _COMPARED:
        _COMPARED[name] = simulate(ctx, seeds=20, seed=0)
    return _COMPARED[name]


def _by_name(report: SimulationReport) -> dict[str, dict[str, float]]:
    return {s.name: s.mean for s in report.strategies}


def test_same_seed_same_result(sample: Context) -> None:
    first = simulate(sample, ["optimal", "random"], seeds=3, seed=7).as_dict()
    again = simulate(sample, ["optimal", "random"], seeds=3, seed=7).as_dict()
    assert first == again


def test_different_seeds_draw_differently(sample: Context) -> None:
    a = simulate(sample, ["optimal"], seeds=1, seed=1).strategies[0].mean
    b = simulate(sample, ["optimal"], seeds=1, seed=2).strategies[0].mean
    assert a["makespan_days"] != b["makespan_days"]
    spread = simulate(sample, ["optimal"], seeds=5, seed=1).strategies[0].spread
    assert spread["makespan_days"] > 0


def test_without_noise_every_seed_agrees(sample: Context) -> None:
    result = simulate(sample, ["greedy"], seeds=4, sigma=0.0).strategies[0]
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in result.spread.values())


def test_metrics_are_in_range(sample: Context) -> None:
    report = _compare("sample", sample)
    assert [s.name for s in report.strategies] == list(ALL_STRATEGIES)
    assert report.tickets > 0 and report.agents == 7
    for s in report.strategies:
        assert 0.0 <= s.mean["on_time_share"] <= 1.0
        assert 0.0 < s.mean["makespan_days"] <= report.horizon_days
        assert s.mean["mean_tardiness_days"] >= 0 and s.mean["utilization_cv"] >= 0
        assert 0.0 < s.mean["mean_compatibility"] <= 1.0
        assert 0.0 < s.mean["weighted_completion_days"] <= report.horizon_days


def test_a_short_horizon_leaves_work_unfinished(sample: Context) -> None:
    short = simulate(sample, ["optimal"], seeds=2, horizon_days=1.0).strategies[0]
    full = _by_name(_compare("sample", sample))["optimal"]
    assert short.unfinished > _compare("sample", sample).strategies[0].unfinished
    assert short.mean["makespan_days"] <= 1.0 < full["makespan_days"]


def test_rejects_unknown_strategy_and_project(sample: Context) -> None:
    with pytest.raises(UsageError, match="--strategies"):
        simulate(sample, ["fastest"])
    with pytest.raises(UsageError, match="no project"):
        simulate(sample, ["optimal"], project="nope")


@pytest.mark.parametrize("case", ["sample", "generated"])
def test_optimizer_beats_random_and_stays_near_the_best_baseline(case: str, request: pytest.FixtureRequest) -> None:
    means = _by_name(_compare(case, request.getfixturevalue(case)))
    best, rand = means["optimal"], means["random"]
    assert best["on_time_share"] >= rand["on_time_share"]
    assert best["weighted_completion_days"] < rand["weighted_completion_days"]
    # Measured: within 0.5% of the best priority-order baseline (see the strict xfail below for why not better).
    assert best["on_time_share"] >= max(means[b]["on_time_share"] for b in BASELINES) - 0.005
    assert best["weighted_completion_days"] <= 1.005 * min(means[b]["weighted_completion_days"] for b in BASELINES)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="measured: with one free agent per decision the optimizer takes the best priority x compatibility "
    "ticket, the priority-order baselines the highest-priority one, which weighs more in the weighted "
    "completion time (docs/simulation.md)",
)
@pytest.mark.parametrize("case", ["sample", "generated"])
def test_optimizer_at_least_as_good_as_every_baseline(case: str, request: pytest.FixtureRequest) -> None:
    means = _by_name(_compare(case, request.getfixturevalue(case)))
    for baseline in BASELINES:
        assert means["optimal"]["on_time_share"] >= means[baseline]["on_time_share"] - 1e-9, baseline
        assert means["optimal"]["weighted_completion_days"] <= means[baseline]["weighted_completion_days"] + 1e-9


def test_cli_json(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    imported = run_cli("import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml"), "--db", db, "--now", NOW_TEXT)
    assert imported.exit_code == 0, imported.stderr
    args = ("simulate", "--db", db, "--now", NOW_TEXT, "--seeds", "2", "--strategies", "optimal,random")
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["seeds"] == 2
    assert [s["name"] for s in data["strategies"]] == ["optimal", "random"]
    for s in data["strategies"]:
        assert set(METRICS) <= set(s) and set(s["spread"]) == set(METRICS)
        assert all(np.isfinite(s[k]) for k in METRICS)
    table = run_cli(*args, "--export", str(tmp_path / "sim.svg"))
    assert table.exit_code == 0, table.stderr
    assert "optimal" in table.stdout and "*" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    assert (tmp_path / "sim.svg").read_text(encoding="utf-8").startswith("<svg")
    bad = run_cli("simulate", "--db", db, "--now", NOW_TEXT, "--strategies", "fastest")
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --strategies")
