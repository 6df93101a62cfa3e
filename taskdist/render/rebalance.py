"""The `rebalance` report: the moves with their gain and reason, then the escalation steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskdist.render import Output, new_table, text

if TYPE_CHECKING:
    from taskdist.rebalance import RebalanceReport


def render_rebalance(out: Output, report: RebalanceReport) -> None:
    if out.fmt == "json":
        out.json(report.as_dict())
        return
    from rich.console import Group

    verb = "applied" if report.applied else "dry run (nothing written; --apply to write)"
    imported = report.imported
    head = f"rebalance: {verb}; {len(report.moves)} move{'s' if len(report.moves) != 1 else ''}"
    if imported:
        head += f"; re-import: {imported.get('imported', 0)} new, {imported.get('updated', 0)} updated"
    head += f"; {len(report.escalations)} escalation step{'s' if len(report.escalations) != 1 else ''}"
    if report.run is not None:
        head += f"; run {report.run}"
    parts: list[Any] = [text(head, "bold")]
    if report.overloaded:
        names = ", ".join(f"{o['agent']} {o['utilization']:.0%}" for o in report.overloaded)
        parts.append(text(f"overloaded before the moves: {names}", "yellow"))
    if report.moves:
        grid = new_table(
            "Moves",
            [
                ("ticket", {"no_wrap": True}),
                ("from", {}),
                ("to", {}),
                ("gain", {"justify": "right"}),
                ("reason", {"overflow": "fold", "ratio": 1}),
            ],
        )
        for m in report.moves:
            grid.add_row(text(m.ticket), text(m.from_agent), text(m.to_agent), text(f"{m.gain:.1f}"), text(m.reason))
        parts.append(grid)
    if report.skipped:
        parts.append(text(f"{len(report.skipped)} tickets held back by the cooldown", "dim"))
    if report.escalations:
        steps = new_table(
            "Escalation steps",
            [
                ("action", {}),
                ("rule", {}),
                ("ticket/agent", {"overflow": "fold"}),
                ("level", {"justify": "right"}),
            ],
        )
        for step in report.escalations[:30]:
            subject = step.get("ticket") or step.get("agent") or step.get("subject") or ""
            steps.add_row(
                text(step.get("action", "")), text(step.get("rule", "")), text(subject), text(step.get("level", ""))
            )
        if len(report.escalations) > 30:
            steps.caption = f"{len(report.escalations) - 30} more in --format json"
        parts.append(steps)
    for note in report.notes:
        parts.append(text(note, "dim"))
    out.print(Group(*parts))
