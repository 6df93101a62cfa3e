"""The `simulate` report: one row per strategy, each metric as mean ± spread, the best of each column marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskdist.render import Output, emit, new_table, text

if TYPE_CHECKING:
    from taskdist.simulate import SimulationReport

# (metric, heading, format of the mean)
COLUMNS = (
    ("makespan_days", "makespan", "{:.1f}"),
    ("on_time_share", "on time", "{:.1%}"),
    ("mean_tardiness_days", "tardy", "{:.2f}"),
    ("weighted_completion_days", "w.done", "{:.2f}"),
    ("utilization_cv", "cv", "{:.2f}"),
    ("mean_compatibility", "compat", "{:.3f}"),
)


def best_of(report: SimulationReport) -> dict[str, float]:
    """The best mean of each metric over the strategies (highest or lowest, as the metric wants)."""
    from taskdist.simulate import HIGHER_IS_BETTER

    best: dict[str, float] = {}
    for metric, _, _ in COLUMNS:
        values = [s.mean[metric] for s in report.strategies]
        best[metric] = max(values) if HIGHER_IS_BETTER.get(metric, False) else min(values)
    return best


def render_simulation(out: Output, report: SimulationReport) -> None:
    data = report.as_dict()
    columns = ["name", *[c[0] for c in COLUMNS], "unfinished"]
    rows = [[s["name"], *[s[c[0]] for c in COLUMNS], s["unfinished"]] for s in data["strategies"]]

    def table() -> Any:
        from rich.console import Group

        best = best_of(report)
        head = (
            f"simulate: {report.tickets} tickets, {report.agents} agents, {report.seeds} seed"
            f"{'s' if report.seeds != 1 else ''} from {report.seed}, horizon {report.horizon_days:g} days"
        )
        grid = new_table(
            None,
            [("strategy", {"no_wrap": True})] + [(h, {"justify": "right", "no_wrap": True}) for _, h, _ in COLUMNS],
        )
        grid.add_column("left", justify="right")
        for s in report.strategies:
            cells: list[Any] = [text(s.name)]
            for metric, _, fmt in COLUMNS:
                shown = fmt.format(s.mean[metric])
                if abs(s.mean[metric] - best[metric]) <= 1e-9:
                    cells.append(text(shown + "*", "bold"))
                else:
                    cells.append(text(shown + " "))
            cells.append(text(f"{s.unfinished:.1f}"))
            grid.add_row(*cells)
        parts: list[Any] = [text(head, "bold"), grid]
        parts.append(text("* best of the column. Days; means over the seeds (--format json has the spread).", "dim"))
        parts.append(text("cv: of agent utilization; left: tickets unfinished at the horizon.", "dim"))
        parts += [text(note, "yellow") for note in report.notes]
        return Group(*parts)

    emit(out, data, columns, lambda: rows, table)
