"""`taskdist simulate`: play the open backlog forward under each assignment strategy and compare them."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import ConfigOpt, DbOpt, ExportOpt, FormatOpt, NowOpt, ProjectOpt, make_run


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    strategies: Annotated[
        str,
        typer.Option("--strategies", help="Comma-separated: optimal, greedy, round-robin, least-loaded, random."),
    ] = "optimal,greedy,round-robin,least-loaded,random",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Runs per strategy (seeds S, S+1, ...).")] = 20,
    horizon: Annotated[float, typer.Option("--horizon", min=0.001, help="Days to simulate.")] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help="First seed of the noise.")] = 0,
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """Simulate the open backlog with the roster per strategy: makespan, on-time share, tardiness, and more.

    Durations are the remaining estimates x each agent's learned speed x seeded lognormal noise;
    dependencies are respected and a free agent gets its next ticket from the strategy. Same seed,
    same figures (docs/simulation.md has the model).
    """
    from taskdist.planning import load_context
    from taskdist.render.simulation import render_simulation
    from taskdist.simulate import simulate as run_simulation

    run = make_run(db, now, fmt, config=config, export=export)
    names = [s.strip().lower() for s in strategies.split(",") if s.strip()]
    with run.ledger() as ledger:
        ctx = load_context(ledger, run.workspace.config, run.now)
    report = run_simulation(ctx, names, seeds=seeds, horizon_days=horizon, seed=seed, project=project)
    render_simulation(run.out, report)
    run.out.finish()
