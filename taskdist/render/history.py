"""Reports for `runs` and `history`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taskdist.render import Output, emit, new_table, text

if TYPE_CHECKING:
    from taskdist.history import TicketHistory

EVENT_STYLE = {
    "imported": "green",
    "updated": "",
    "missing": "yellow",
    "read_error": "red",
    "restored": "green",
    "assigned": "cyan",
    "claimed": "cyan",
    "moved": "magenta",
    "escalated": "bold red",
    "done": "green",
    "failed": "red",
    "started": "cyan",
}


def _summary(data: dict[str, Any], limit: int = 90) -> str:
    """A one-line digest of an event's or run's data, for the table (JSON has it whole)."""
    if "fields" in data:
        return "changed: " + ", ".join(str(f) for f in data["fields"])
    parts = []
    for key, value in data.items():
        if key == "changes":
            continue
        shown = value if isinstance(value, (str, int, float)) else json.dumps(value, sort_keys=True)
        parts.append(f"{key}={shown}")
    line = "; ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_history(out: Output, history: TicketHistory) -> None:
    data = {"project": history.project, "ticket": history.ticket, "events": history.events}
    columns = ["at", "kind", "agent", "run", "data"]

    def rows() -> Iterator[list[Any]]:
        for event in history.events:
            yield [event["at"], event["kind"], event["agent"], event["run"], event["data"]]

    def table() -> Any:
        grid = new_table(
            f"History of {history.project}:{history.ticket} ({len(history.events)} events)",
            [("at", {"no_wrap": True}), ("event", {}), ("agent", {}), ("what", {"overflow": "fold"})],
        )
        for event in history.events:
            grid.add_row(
                text(event["at"]),
                text(event["kind"], EVENT_STYLE.get(event["kind"], "")),
                text(event["agent"] or ""),
                text(_summary(event["data"])),
            )
        return grid

    emit(out, data, columns, rows, table)


def render_runs(out: Output, runs: list[dict[str, Any]]) -> None:
    columns = ["run", "command", "started_at", "finished_at", "config_hash", "summary"]

    def rows() -> Iterator[list[Any]]:
        for run in runs:
            yield [run[c] for c in columns]

    def table() -> Any:
        grid = new_table(
            f"{len(runs)} latest runs",
            [
                ("run", {"justify": "right"}),
                ("command", {}),
                ("started", {"no_wrap": True}),
                ("summary", {"overflow": "fold"}),
            ],
        )
        for run in runs:
            grid.add_row(
                text(run["run"]), text(run["command"]), text(run["started_at"]), text(_summary(run["summary"]))
            )
        return grid

    emit(out, runs, columns, rows, table)
