"""Reports of `assign` and `next`, and the candidate agents section of `explain` (80 columns wide)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from taskdist.render import Output, emit, new_table, text

# Any control character, raw or as JSON writes C0 ones: such text goes through `safe_json` instead.
_CONTROL = re.compile(r"[\x7f-\x9f]|\\u00[01][0-9a-fA-F]")

if TYPE_CHECKING:
    from rich.console import RenderableType

    from taskdist.candidates import Candidates
    from taskdist.claiming import NextTicket
    from taskdist.planning import Plan

PLAN_COLUMNS = [
    "kind",
    "project",
    "ticket",
    "agent",
    "priority",
    "compatibility",
    "value",
    "runner_up",
    "loss",
    "reason",
    "detail",
]
REASON_STYLE = {"blocked": "yellow", "no eligible agent": "red", "no capacity": "magenta"}


def render_plan(out: Output, plan: Plan) -> None:
    data = plan.as_dict()
    if out.fmt == "json":
        write_json(out, data)
        return

    def rows() -> Iterator[Sequence[Any]]:
        for a in plan.assignments:
            yield [
                "assigned",
                a.project,
                a.ticket,
                a.agent,
                a.priority,
                a.compatibility,
                a.value,
                a.runner_up,
                a.loss,
                "",
                a.why(),
            ]
        for u in plan.unassigned:
            yield ["unassigned", u.project, u.ticket, None, u.priority, None, None, None, None, u.reason, u.detail]
        for k in plan.kept:
            yield ["kept", k.project, k.ticket, k.agent, k.priority, None, None, None, None, k.reason, k.detail]

    def table() -> RenderableType:
        from rich.console import Group

        projects = {a.project for a in plan.assignments} | {u.project for u in plan.unassigned}
        many = len(projects) > 1
        state = "applied" if plan.applied else "dry run"
        head = text(
            f"{state}: {len(plan.assignments)} assigned, {len(plan.unassigned)} left out, {len(plan.kept)} kept; "
            f"objective {plan.objective:.3f} ({plan.strategy}, {plan.solver})",
            "bold",
        )
        parts: list[RenderableType] = [head]
        if plan.assignments:
            grid = new_table(
                None,
                [
                    ("ticket", {"no_wrap": True, "max_width": 24}),
                    ("agent", {"no_wrap": True, "max_width": 16}),
                    ("prio", {"justify": "right", "no_wrap": True}),
                    ("match", {"justify": "right", "no_wrap": True}),
                    ("value", {"justify": "right", "no_wrap": True}),
                    ("runner-up (loss)", {"overflow": "ellipsis", "no_wrap": True, "min_width": 12}),
                ],
            )
            for a in plan.assignments:
                second = f"{a.runner_up} ({a.loss:.3f})" if a.runner_up and a.loss is not None else "-"
                grid.add_row(
                    text(f"{a.project}:{a.ticket}" if many else a.ticket),
                    text(a.agent),
                    text(f"{a.priority:.1f}"),
                    text(f"{a.compatibility:.2f}"),
                    text(f"{a.value:.2f}"),
                    text(second, "dim"),
                )
            parts.append(grid)
        if plan.unassigned:
            left = new_table(
                "Left out",
                [
                    ("ticket", {"no_wrap": True, "max_width": 24}),
                    ("prio", {"justify": "right", "no_wrap": True}),
                    ("reason", {"no_wrap": True}),
                    ("detail", {"overflow": "fold", "ratio": 1}),
                ],
            )
            for u in plan.unassigned:
                left.add_row(
                    text(f"{u.project}:{u.ticket}" if many else u.ticket),
                    text(f"{u.priority:.1f}"),
                    text(u.reason, REASON_STYLE.get(u.reason, "")),
                    text(u.detail, "dim"),
                )
            parts.append(left)
        if plan.kept:
            parts.append(
                text(
                    f"{len(plan.kept)} tickets kept by their holders (in progress or already assigned); "
                    "--format json lists them",
                    "dim",
                )
            )
        for note in plan.notes:
            parts.append(text(note, "yellow"))
        if plan.applied:
            written = f" and {len(plan.written_files)} ticket files" if plan.written_files else ""
            parts.append(text(f"written to the ledger{written}", "green"))
        elif plan.assignments:
            parts.append(text("dry run: nothing written; `taskdist assign --apply` writes exactly this plan", "dim"))
        return Group(*parts)

    emit(out, data, PLAN_COLUMNS, rows, table)


def write_json(out: Output, data: dict[str, Any]) -> None:
    """A large plan as JSON, one list item per line, with the C encoder (`Output.json` pretty-prints in
    pure Python: seconds for 10,000 assignments). Text with any control character in it takes the house
    path instead, so what reaches the terminal is the same."""
    lists = {key: value for key, value in data.items() if isinstance(value, list)}
    parts = []
    for key, value in data.items():
        if key in lists:
            items = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in value)
            parts.append(f"  {json.dumps(key)}: [\n{items}\n  ]" if value else f"  {json.dumps(key)}: []")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    document = "{\n" + ",\n".join(parts) + "\n}\n"
    if _CONTROL.search(document):
        out.json(data)
        return
    sys.stdout.write(document)


NEXT_COLUMNS = ["agent", "project", "ticket", "priority", "compatibility", "value", "claimed", "reason"]


def render_next(out: Output, found: NextTicket) -> None:
    def rows() -> Iterator[Sequence[Any]]:
        yield [
            found.agent,
            found.project,
            found.ticket,
            found.priority if found.ticket else None,
            found.compatibility if found.ticket else None,
            found.value if found.ticket else None,
            found.claimed,
            found.reason,
        ]

    def table() -> RenderableType:
        from rich.console import Group

        if found.ticket is None:
            nothing: RenderableType = text(f"nothing for {found.agent}: {found.reason}", "yellow")
            return nothing
        verb = "claimed" if found.claimed else "next"
        head = text(f"{verb} for {found.agent}: ", "bold")
        head.append(text(f"{found.project}:{found.ticket} "))
        head.append(text(found.title or "", "dim"))
        numbers = text(
            f"priority {found.priority:.1f} x compatibility {found.compatibility:.2f} = {found.value:.2f}; "
            f"{found.hours:.1f} h; best of {found.candidates} ready tickets it can take"
        )
        parts_line = text("match: " + ", ".join(f"{name} {value:.2f}" for name, value in found.parts.items()), "dim")
        lines: list[RenderableType] = [head, numbers, parts_line]
        if not found.claimed:
            lines.append(text("not claimed: `taskdist next AGENT --claim` takes it", "dim"))
        return Group(*lines)

    emit(out, found.as_dict(), NEXT_COLUMNS, rows, table)


def candidates_table(found: Candidates) -> RenderableType:
    """The candidate agents section of `explain`."""
    from rich.console import Group

    if not found.rows:
        nobody: RenderableType = text(f"Candidate agents: {found.verdict}")
        return nobody
    title = f"Candidate agents ({found.eligible} eligible of {len(found.rows)})"
    grid = new_table(
        title,
        [
            ("agent", {"no_wrap": True, "max_width": 16}),
            ("match", {"justify": "right", "no_wrap": True}),
            ("skill", {"justify": "right", "no_wrap": True}),
            ("exp", {"justify": "right", "no_wrap": True}),
            ("perf", {"justify": "right", "no_wrap": True}),
            ("avail", {"justify": "right", "no_wrap": True}),
            ("load", {"justify": "right", "no_wrap": True}),
            ("eligible or why not", {"overflow": "fold", "ratio": 1}),
        ],
    )
    for row in found.rows[: found.limit]:
        p = row.parts
        grid.add_row(
            text(row.agent),
            text(f"{row.compatibility:.2f}"),
            text(f"{p['skill']:.2f}"),
            text(f"{p['experience']:.2f}"),
            text(f"{p['performance']:.2f}"),
            text(f"{p['availability']:.2f}"),
            text(f"{p['load']:.2f}"),
            text("eligible" if row.eligible else row.why_not or "", "green" if row.eligible else "dim"),
        )
    lines: list[RenderableType] = [grid, text(found.verdict)]
    if len(found.rows) > found.limit:
        lines.append(text(f"{len(found.rows) - found.limit} more agents in --format json", "dim"))
    return Group(*lines)


def explain_extras(explanation: Any) -> list[Any]:
    """`explain` sections this module adds (the candidate agents), as the priority renderer takes them."""
    from taskdist.render.priority import ExplainSection

    found = explanation.sections.get("candidates")
    if found is None:
        return []

    def rows() -> Iterator[Sequence[Any]]:
        for row in found.rows:
            detail = "eligible" if row.eligible else (row.why_not or "")
            yield ["candidate", row.agent, row.compatibility, None, row.value, detail]

    return [ExplainSection("candidates", found.as_dict(), lambda: candidates_table(found), rows)]
