"""Reports of the foundation commands: import summary, tickets, show, agents, init."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from taskdist.render import Output, emit, new_table, safe, text

if TYPE_CHECKING:
    from taskdist.importer import ImportReport
    from taskdist.models import Agent, Ticket
    from taskdist.ticket_info import TicketDetails
    from taskdist.workspace import InitResult

STATUS_STYLE = {
    "open": "",
    "in_progress": "cyan",
    "review": "magenta",
    "blocked": "yellow",
    "done": "green",
    "cancelled": "dim",
}
PRIORITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else ""


@contextmanager
def import_progress(out: Output, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long imports (only on a terminal, never with --quiet)."""
    if not enabled or out.quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("reading tickets"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out.console(stderr=True),
        transient=True,
    )
    task: list[Any] = []

    def advance(done: int, total: int) -> None:
        # Only worth showing when there is real work: tiny imports finish before a bar helps.
        if total < 200:
            return
        if not task:
            progress.start()
            task.append(progress.add_task("read", total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        yield advance
    finally:
        if task:
            progress.stop()


def render_import(out: Output, report: ImportReport) -> None:
    data = report.as_dict()

    def rows() -> Iterator[list[Any]]:
        for kind in ("errors", "warnings"):
            for item in data[kind]:
                yield [kind[:-1], item["path"], item["line"], item["reason"]]
        for dup in data["duplicates"]:
            for dropped in dup["dropped"]:
                yield ["duplicate", dropped, None, f"same id {dup['id']} as {dup['kept']} (kept: {dup['reason']})"]

    def table() -> Any:
        from rich.console import Group

        summary = text(
            f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.missing} missing; {report.tickets} tickets in {', '.join(report.projects) or 'no project'}; "
            f"{len(report.errors)} errors, {len(report.warnings)} warnings, {len(report.duplicates)} duplicated ids"
            + (f"; agents {report.agents}" if report.agents else ""),
            style="bold",
        )
        parts: list[Any] = [summary]
        if report.errors:
            errors = new_table(
                "Files not imported",
                [("file", {"overflow": "fold"}), ("line", {"justify": "right"}), ("reason", {"overflow": "fold"})],
            )
            for item in report.errors:
                errors.add_row(text(item["path"]), text(item["line"] or ""), text(item["reason"], "red"))
            parts.append(errors)
        if report.warnings:
            parts.append(text(f"{len(report.warnings)} warnings (see --format json for the list)", "yellow"))
        if report.duplicates:
            parts.append(
                text(
                    f"{len(report.duplicates)} ids appear in several files; the winner is kept, "
                    "the others are listed with --format json",
                    "yellow",
                )
            )
        return Group(*parts)

    emit(out, data, ["kind", "path", "line", "reason"], rows, table)


def render_tickets(out: Output, tickets: list[Ticket]) -> None:
    columns = ["project", "id", "kind", "status", "priority", "assignee", "due", "estimate_hours", "title"]

    def record(t: Ticket) -> dict[str, Any]:
        return {
            "project": t.project,
            "id": t.id,
            "kind": t.kind.value,
            "status": t.status.value,
            "priority": t.priority.value if t.priority else None,
            "assignee": t.assignee,
            "due": t.due.isoformat() if t.due else None,
            "estimate_hours": t.estimate_hours,
            "estimate_assumed": t.estimate_assumed,
            "title": t.title,
        }

    def rows() -> Iterator[list[Any]]:
        for t in tickets:
            r = record(t)
            yield [r[c] for c in columns]

    def table() -> Any:
        projects = {t.project for t in tickets}
        grid = new_table(
            f"{len(tickets)} tickets",
            [
                *([("project", {"overflow": "fold", "max_width": 20})] if len(projects) > 1 else []),
                ("id", {"no_wrap": True}),
                ("kind", {}),
                ("status", {}),
                ("priority", {}),
                ("assignee", {"max_width": 14}),
                ("due", {"no_wrap": True}),
                ("est h", {"justify": "right"}),
                ("title", {"overflow": "fold"}),
            ],
        )
        for t in tickets:
            estimate = f"{t.estimate_hours:g}" + ("*" if t.estimate_assumed else "")
            grid.add_row(
                *([text(t.project)] if len(projects) > 1 else []),
                text(t.id),
                text(t.kind.value),
                text(t.status.value, STATUS_STYLE.get(t.status.value, "")),
                text(
                    t.priority.value if t.priority else "?",
                    PRIORITY_STYLE.get(t.priority.value if t.priority else "", "dim"),
                ),
                text(t.assignee or "-"),
                text(_date(t.due)),
                text(estimate),
                text(t.title),
            )
        if any(t.estimate_assumed for t in tickets):
            grid.caption = "* estimate assumed (no estimate in the file)"
        return grid

    emit(out, [record(t) for t in tickets], columns, rows, table)


def render_show(out: Output, details: TicketDetails) -> None:
    t = details.ticket
    data = {
        **{k: v for k, v in asdict(t).items() if k not in ("body",)},
        "kind": t.kind.value,
        "status": t.status.value,
        "priority": t.priority.value if t.priority else None,
        "created": t.created.isoformat() if t.created else None,
        "updated": t.updated.isoformat() if t.updated else None,
        "due": t.due.isoformat() if t.due else None,
        "closed": t.closed.isoformat() if t.closed else None,
        "body": t.body,
        "flags": details.flags,
        "events": details.events,
    }
    fields = [
        ("project", t.project),
        ("id", t.id),
        ("kind", t.kind.value),
        ("title", t.title),
        ("status", f"{t.status.value} (file says {t.status_raw!r})" if t.status_raw else t.status.value),
        (
            "priority",
            f"{t.priority.value if t.priority else 'unknown'}"
            + (f" (file says {t.priority_raw!r})" if t.priority_raw else ""),
        ),
        ("assignee", t.assignee or "-"),
        ("created", _date(t.created)),
        ("updated", _date(t.updated)),
        ("due", _date(t.due) or "-"),
        ("estimate", f"{t.estimate_hours:g} h from {t.estimate_source}" + (" (assumed)" if t.estimate_assumed else "")),
        ("checklist", f"{t.checklist_done}/{t.checklist_total}"),
        ("skills", f"{', '.join(t.skills) or '-'} ({t.skills_source})"),
        ("parent", t.parent or "-"),
        ("depends on", ", ".join(t.depends_on) or "-"),
        ("blocks", ", ".join(t.blocks) or "-"),
        ("dialect", t.dialect),
        ("file", t.path),
    ]
    if details.flags.get("missing"):
        fields.append(("flag", "its file is gone; this is the last version read"))
    if details.flags.get("read_error"):
        fields.append(("flag", f"its file is unreadable now ({details.flags['read_error']}); last good version shown"))

    def rows() -> Iterator[list[Any]]:
        for name, value in fields:
            yield [name, value]

    def table() -> Any:
        grid = new_table(None, [("field", {"style": "bold"}), ("value", {"overflow": "fold"})])
        for name, value in fields:
            grid.add_row(text(name), text(value))
        return grid

    emit(out, data, ["field", "value"], rows, table)


def render_agents(out: Output, roster: list[Agent]) -> None:
    def record(a: Agent) -> dict[str, Any]:
        return {
            "id": a.id,
            "name": a.name,
            "skills": a.skills,
            "capacity_hours": a.capacity_hours,
            "max_tasks": a.max_tasks,
            "availability": a.availability,
            "aliases": list(a.aliases),
        }

    columns = ["id", "name", "skills", "capacity_hours", "max_tasks", "availability", "aliases"]

    def rows() -> Iterator[list[Any]]:
        for a in roster:
            r = record(a)
            yield [r[c] for c in columns]

    def table() -> Any:
        grid = new_table(
            f"{len(roster)} agents",
            [
                ("id", {"no_wrap": True}),
                ("name", {}),
                ("skills", {"overflow": "fold"}),
                ("cap h", {"justify": "right"}),
                ("max", {"justify": "right"}),
                ("avail", {"justify": "right"}),
            ],
        )
        for a in roster:
            skills = ", ".join(f"{k} {v:.1f}" for k, v in sorted(a.skills.items(), key=lambda kv: -kv[1]))
            grid.add_row(
                text(a.id),
                text(a.name),
                text(skills),
                text(f"{a.capacity_hours:g}"),
                text(a.max_tasks),
                text(f"{a.availability:.0%}"),
            )
        return grid

    emit(out, [record(a) for a in roster], columns, rows, table)


def render_init(out: Output, result: InitResult) -> None:
    verb = "wrote" if result.wrote_config else "kept the existing"
    out.note(f"{verb} {result.config_path}; ledger at {result.db_path}", style="")
    out.note("next: list ticket folders under `sources:` and run `taskdist import`", style="dim")
    _ = safe
