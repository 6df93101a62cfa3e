"""Reports of the foundation commands: import summary, tickets, show, agents, init."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from taskdist.render import Output, emit, new_table, safe, text
from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

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


# Short labels for narrow terminals, so the title keeps most of an 80-column line.
SHORT_STATUS = {"in_progress": "in_prog", "cancelled": "cancel"}
SHORT_PRIORITY = {"critical": "crit", "medium": "med"}
SHORT_KIND = {"issue": "iss", "project": "proj", "milestone": "mile", "comment": "cmt"}
NARROW = 100  # below this many columns the tickets table abbreviates
MIN_TITLE = 20  # ...and hides these columns, in this order, until the title gets this many
DROP_WHEN_NARROW = ("kind", "est", "due")


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else ""


def shown_path(path: str | None, base: str | os.PathLike[str] | None) -> str | None:
    """A path as people and scripts use it: relative to `base` (the current folder) when under it."""
    return shown_paths(base)(path)


def shown_paths(base: str | os.PathLike[str] | None) -> Callable[[str | None], str | None]:
    """`shown_path` with `base` fixed, its prefix worked out once (an import report shows a thousand paths)."""
    prefix = None if base is None else os.path.join(base, "")

    def shown(path: str | None) -> str | None:
        if not path or prefix is None:
            return path
        return path[len(prefix) :] if path.startswith(prefix) else path

    return shown


@contextmanager
def import_progress(out: Output, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long imports (only on a terminal, never with --quiet).

    rich.progress is loaded only once a bar is worth showing: a re-import that reads nothing never
    pays for it (about 0.1 s of start-up here).
    """
    if not enabled or out.quiet:
        yield None
        return
    bar: list[Any] = []  # [Progress, task id] once started

    def advance(done: int, total: int) -> None:
        # Only worth showing when there is real work: tiny imports finish before a bar helps.
        if total < 200:
            return
        if not bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            progress = Progress(
                TextColumn("reading tickets"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=out.console(stderr=True),
                transient=True,
            )
            progress.start()
            bar.extend((progress, progress.add_task("read", total=total)))
        bar[0].update(bar[1], completed=done, total=total)

    try:
        yield advance
    finally:
        if bar:
            bar[0].stop()


def _relative_report(data: dict[str, Any], base: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The report with every file path (errors, warnings, skipped, duplicates) shown relative to `base`."""
    shown = shown_paths(base)
    for kind in ("errors", "warnings", "skipped"):
        data[kind] = [{**item, "path": shown(item["path"])} for item in data[kind]]
    data["duplicates"] = [
        {**dup, "kept": shown(dup["kept"]), "dropped": [shown(p) for p in dup["dropped"]]} for dup in data["duplicates"]
    ]
    return data


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _agents_line(agents: dict[str, int]) -> str:
    parts = [f"{count} {what}" for what, count in agents.items() if count]
    return f"; roster: {', '.join(parts) or 'no agents'}"


def render_import(out: Output, report: ImportReport, base: str | os.PathLike[str] | None = None) -> None:
    """The import summary; paths relative to `base` (the current folder) when under it, absolute otherwise."""
    if out.fmt == "table":  # plain lines, not a rich table: see _import_lines
        out.lines(_import_lines(report, base))
        return
    data = _relative_report(report.as_dict(), base)
    if out.fmt == "json":
        out.json(data)
        return

    def rows() -> Iterator[list[Any]]:
        for kind in ("errors", "warnings"):
            for item in data[kind]:
                yield [kind[:-1], item["path"], item["line"], _problem_reason(item)]
        for dup in data["duplicates"]:
            for dropped in dup["dropped"]:
                yield ["duplicate", dropped, None, f"same id {dup['id']} as {dup['kept']} (kept: {dup['reason']})"]

    out.csv(["kind", "path", "line", "reason"], rows())


def _import_lines(report: ImportReport, base: str | os.PathLike[str] | None) -> list[tuple[str, str]]:
    """The import report for people, as (text, style) lines.

    Unreadable files are listed the way compilers and linters list problems, `path:line: reason`,
    one per line and never folded, so that a path can be copied or clicked. Plain lines also keep
    rich out of the import: loading it costs more than a re-import's own work (tens of milliseconds).
    """
    summary = (
        f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.missing} missing; {_count(report.tickets, 'ticket')} in "
        f"{', '.join(report.projects) or 'no project'}; {_count(len(report.errors), 'error')}, "
        f"{_count(len(report.warnings), 'warning')}, {_count(len(report.duplicates), 'duplicated id')}, "
        f"{len(report.skipped)} skipped" + (_agents_line(report.agents) if report.agents else "")
    )
    lines = [(safe(summary), "bold")]
    if report.errors:
        lines.append(("Files not imported:", "bold"))
        for item in report.errors:
            where = safe(shown_path(item["path"], base)) + (f":{item['line']}" if item["line"] else "")
            lines.append((f"  {where}: {safe(_problem_reason(item))}", "red"))
    if report.warnings:
        lines.append((f"{_count(len(report.warnings), 'warning')} (see --format json for the list)", "yellow"))
    if report.duplicates:
        lines.append(
            (
                f"{_count(len(report.duplicates), 'id')} in several files; the winner is kept, "
                "the others are listed with --format json",
                "yellow",
            )
        )
    return lines


def _problem_reason(item: dict[str, Any]) -> str:
    """The reason a file failed, and the ticket it held when the ledger keeps that ticket's last good version."""
    kept = item.get("kept")
    return f"{item['reason']}; ticket {kept} keeps its last good version" if kept else str(item["reason"])


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
        from rich.cells import cell_len

        width = out.console().width
        narrow = width < NARROW
        many = len({t.project for t in tickets}) > 1

        def short(value: str, labels: dict[str, str]) -> str:
            return labels.get(value, value) if narrow else value

        # (key, header, widest allowed); the title takes whatever width is left.
        spec = [
            *([("project", "project", 14 if narrow else 24)] if many else []),
            ("id", "id", 16 if narrow else 24),
            ("kind", "kind", 9),
            ("status", "status", 11),
            ("priority", "prio" if narrow else "priority", 8),
            ("assignee", "assignee", 10 if narrow else 16),
            ("due", "due", 10),
            ("est", "est" if narrow else "est h", 8),
        ]
        cells = []
        for t in tickets:
            priority = t.priority.value if t.priority else "?"
            cells.append(
                {
                    "project": t.project,
                    "id": t.id,
                    "kind": short(t.kind.value, SHORT_KIND),
                    "status": short(t.status.value, SHORT_STATUS),
                    "priority": short(priority, SHORT_PRIORITY),
                    "assignee": t.assignee or "-",
                    "due": _date(t.due),
                    "est": f"{t.estimate_hours:g}" + ("*" if t.estimate_assumed else ""),
                }
            )
        widths = {
            key: min(cap, max([cell_len(header)] + [cell_len(safe(row[key])) for row in cells]))
            for key, header, cap in spec
        }
        hidden = []
        while True:
            # Columns are separated by two spaces (no outer edge): what is left is the title's.
            title_width = width - sum(widths[key] for key, _, _ in spec) - 2 * len(spec)
            droppable = [key for key in DROP_WHEN_NARROW if key in {k for k, _, _ in spec}]
            if title_width >= MIN_TITLE or not droppable:
                break
            hidden.append(droppable[0])
            spec = [column for column in spec if column[0] != droppable[0]]
        fit_titles = title_width >= 12
        grid = new_table(
            f"{len(tickets)} tickets",
            [
                *(
                    (
                        header,
                        {
                            "no_wrap": True,
                            "overflow": "ellipsis",
                            "max_width": cap,
                            "justify": "right" if key == "est" else "left",
                        },
                    )
                    for key, header, cap in spec
                ),
                ("title", {"no_wrap": fit_titles, "overflow": "ellipsis" if fit_titles else "fold"}),
            ],
        )
        grid.show_edge, grid.pad_edge, grid.collapse_padding = False, False, True
        for t, row in zip(tickets, cells, strict=True):
            title = text(t.title)
            if fit_titles:
                title.truncate(title_width, overflow="ellipsis")
            styles = {
                "status": STATUS_STYLE.get(t.status.value, ""),
                "priority": PRIORITY_STYLE.get(t.priority.value if t.priority else "", "dim"),
            }
            grid.add_row(*(text(row[key], styles.get(key, "")) for key, _, _ in spec), title)
        notes = []
        if any(t.estimate_assumed for t in tickets) and any(key == "est" for key, _, _ in spec):
            notes.append("* estimate assumed (no estimate in the file)")
        if hidden:
            notes.append(f"too narrow for: {', '.join(hidden)} (widen the terminal or use --format csv)")
        grid.caption = "; ".join(notes) or None
        grid.caption_justify = "left"
        return grid

    emit(out, [record(t) for t in tickets], columns, rows, table)


def render_show(out: Output, details: TicketDetails, base: str | os.PathLike[str] | None = None) -> None:
    """One ticket; its file path relative to `base` (the current folder) when under it."""
    from dataclasses import asdict  # only here: a re-import's report must not load dataclasses

    t = details.ticket
    data = {
        **{k: v for k, v in asdict(t).items() if k not in ("body",)},
        "path": shown_path(t.path, base),
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
        ("file", shown_path(t.path, base) or ""),
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


def render_agents(out: Output, roster: list[Agent], figures: dict[str, dict[str, Any]] | None = None) -> None:
    """The roster; with `figures` (agent_figures.agent_overview) also its load and learned performance."""
    extra = figures or {}

    def record(a: Agent) -> dict[str, Any]:
        return {
            "id": a.id,
            "name": a.name,
            "skills": a.skills,
            "capacity_hours": a.capacity_hours,
            "max_tasks": a.max_tasks,
            "availability": a.availability,
            "aliases": list(a.aliases),
            **extra.get(a.id, {}),
        }

    columns = ["id", "name", "skills", "capacity_hours", "max_tasks", "availability", "aliases"]
    if figures:
        columns += ["load_hours", "load_tasks", "utilization", "learned"]

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
            cells = [
                text(a.id),
                text(a.name),
                text(skills),
                text(f"{a.capacity_hours:g}"),
                text(a.max_tasks),
                text(f"{a.availability:.0%}"),
            ]
            grid.add_row(*cells)
        if not figures:
            return grid
        from rich.console import Group

        return Group(grid, _figures_table(roster, extra))

    emit(out, [record(a) for a in roster], columns, rows, table)


def _figures_table(roster: list[Agent], figures: dict[str, dict[str, Any]]) -> Any:
    """Load held now and what the ledger's outcomes taught (agent_figures.agent_overview)."""
    grid = new_table(
        "Load and learned performance",
        [
            ("id", {"no_wrap": True}),
            ("tickets", {"justify": "right"}),
            ("hours", {"justify": "right"}),
            ("util", {"justify": "right"}),
            ("done", {"justify": "right"}),
            ("failed", {"justify": "right"}),
            ("success", {"justify": "right"}),
            ("speed", {"justify": "right"}),
            ("perf", {"justify": "right"}),
        ],
    )
    for a in roster:
        f = figures.get(a.id, {})
        learned = f.get("learned", {})
        util = f.get("utilization", 0.0)
        grid.add_row(
            text(a.id),
            text(f"{f.get('load_tasks', 0)}/{a.max_tasks}"),
            text(f"{f.get('load_hours', 0.0):.1f}"),
            text(f"{util:.0%}", "red" if util > 1.0 else ""),
            text(learned.get("done", 0)),
            text(learned.get("failed", 0)),
            text(f"{learned.get('success_rate', 0.0):.0%}"),
            text(f"{learned.get('speed', 1.0):.2f}x"),
            text(f"{learned.get('performance', 0.0):.2f}"),
        )
    grid.caption = "speed: actual / estimated hours; an agent without outcomes shows the priors"
    return grid


def render_init(out: Output, result: InitResult) -> None:
    verb = "wrote" if result.wrote_config else "kept the existing"
    out.note(f"{verb} {result.config_path}; ledger at {result.db_path}", style="")
    out.note("next: list ticket folders under `sources:` and run `taskdist import`", style="dim")
    _ = safe
