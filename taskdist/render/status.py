"""Reports of the status side: `status` (queue, workload, progress, escalations), `escalate`, outcomes.

Tables are laid out for the console's width: fixed narrow columns, and the title (or cause) column
takes what is left, cut with an ellipsis, so every row stays on one line at 80 columns. Utilization
and completion are bars; delay risk and alert severity are coloured.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from taskdist.render import Output, new_table, safe, text

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

    from taskdist.outcomes import OutcomeResult
    from taskdist.status import StatusReport
    from taskdist.sweep import SweepReport
    from taskdist.workload import Workload

RISK_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "green", "none": "dim"}
RISK_SHORT = {"critical": "crit", "high": "high", "medium": "med", "low": "low", "none": "-"}
STATE_STYLE = {"overloaded": "bold red", "busy": "yellow", "ok": "green", "idle": "cyan", "away": "dim"}
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "dim"}
RULE_SHORT = {
    "overdue": "overdue",
    "delay_risk": "delay risk",
    "stalled": "stalled",
    "blocked": "blocked",
    "failed": "failed",
    "no_eligible_agent": "no agent",
    "dependency_cycle": "cycle",
    "dangling_dependency": "dangling",
    "agent_overloaded": "overloaded",
}
FULL = "█"
EMPTY = "░"


# --- small pieces ----------------------------------------------------------------------------------------


def bar(fraction: float, width: int, style: str) -> Text:
    """A horizontal bar of `width` cells filled to `fraction` (0..1; beyond 1 shows full, in `style`)."""
    from rich.text import Text

    shown = 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)
    filled = round(shown * width)
    result = Text(FULL * filled, style=style)
    result.append(EMPTY * (width - filled), style="dim")
    return result


def _stamp(value: float | None) -> str | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: float, now: datetime) -> str:
    """A compact date: `Nov 28` this year, `2027-01-04` otherwise; `never` for no finish; '' for none."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "never"
    moment = datetime.fromtimestamp(value, UTC)
    return moment.strftime("%b %d") if moment.year == now.year else moment.strftime("%Y-%m-%d")


def _risk_text(band: str, p_late: float) -> Any:
    label = RISK_SHORT.get(band, band)
    if band in ("", "none") or math.isnan(p_late):
        return text(label or "-", RISK_STYLE.get(band, "dim"))
    return text(f"{label} {p_late:.0%}", RISK_STYLE.get(band, ""))


def _fit(out: Output, columns: list[tuple[str, int | None, str]], rows: list[list[Any]]) -> Table:
    """A one-line-per-row table: fixed widths, the one column given None takes what the console leaves."""
    from rich.cells import cell_len

    width = out.width or out.console().width
    fixed = []
    for c, (name, size, _) in enumerate(columns):
        if size is None:
            fixed.append(0)
            continue
        longest = max([cell_len(name)] + [cell_len(r[c].plain) for r in rows])
        fixed.append(min(size, longest))
    flexible = next((c for c, col in enumerate(columns) if col[1] is None), None)
    if flexible is not None:
        used = sum(fixed) + 2 * (len(columns) - 1)
        longest = max([cell_len(columns[flexible][0])] + [cell_len(r[flexible].plain) for r in rows])
        fixed[flexible] = max(8, min(longest, width - used - 1))
    grid = new_table(
        None,
        [
            (name, {"no_wrap": True, "overflow": "ellipsis", "width": fixed[c], "justify": justify})
            for c, (name, _, justify) in enumerate(columns)
        ],
    )
    grid.show_edge = False
    grid.pad_edge = False
    grid.collapse_padding = True
    for row in rows:
        grid.add_row(*row)
    return grid


def _heading(title: str, detail: str = "") -> Text:
    """A section title after a blank line, with its summary in dim."""
    from rich.text import Text

    result = Text("\n")
    result.append(title, style="bold underline")
    if detail:
        result.append("  " + safe(detail), style="dim")
    return result


# --- status: JSON -----------------------------------------------------------------------------------------


def status_data(report: StatusReport) -> dict[str, Any]:
    """The JSON document: the sections asked for, plus a summary of counts."""
    data: dict[str, Any] = {}
    if "queue" in report.sections:
        data["queue"] = _queue_records(report)
    if "workload" in report.sections:
        data["workload"] = report.state.workload.as_dict()
    if "progress" in report.sections:
        rows = [k for k, _ in report.containers] + report.progress_rows
        data["progress"] = [_progress_record(report, k) for k in rows]
    if "escalations" in report.sections:
        data["escalations"] = report.escalations
    data["summary"] = _summary(report)
    return data


def _queue_records(report: StatusReport) -> list[dict[str, Any]]:
    from taskdist.queue import QueueFilter, QueueReport
    from taskdist.render.priority import queue_records

    scores = report.state.scores
    queue = QueueReport(scores, report.queue_rows, report.queue_matched, QueueFilter(limit=report.limit))
    return list(queue_records(queue))


def _progress_record(report: StatusReport, k: int) -> dict[str, Any]:
    state = report.state
    t = state.scores.tickets
    p = state.progress
    p_late = float(p.p_late[k])
    owner = int(state.owner[k])
    detail = report.details.get((t.project[k], t.id[k]))
    return {
        "project": t.project[k],
        "id": t.id[k],
        "kind": detail.kind if detail else None,
        "title": t.title[k],
        "status": t.status[k],
        "assignee": state.agents[owner].id if owner >= 0 else t.assignee[k],
        "completion": round(100.0 * float(p.completion[k]), 1),
        "checklist": {
            "done": detail.checklist_done if detail else 0,
            "total": detail.checklist_total if detail else 0,
        },
        "children": int(p.children[k]),
        "effort_hours": round(float(p.weight[k]), 2),
        "remaining_hours": round(float(p.remaining_hours[k]), 2),
        "p50": _stamp(float(p.p50[k])),
        "p90": _stamp(float(p.p90[k])),
        "due": t.due_text[k],
        "p_late": None if math.isnan(p_late) else round(p_late, 4),
        "risk": p.band_at(k) or None,
    }


def _summary(report: StatusReport) -> dict[str, Any]:
    from taskdist.progress import risk_counts

    state = report.state
    p = state.progress
    queued = state.scores.queued
    bands = risk_counts(p.level[queued])
    return {
        "now": state.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "queued": report.queue_matched,
        "ready": int(state.scores.ready.sum()),
        "risk": dict(bands),
        "health": round(state.workload.health.score, 1),
        "escalations": report.escalation_counts.get("by_state", {}),
        "escalations_by_rule": report.escalation_counts.get("by_rule", {}),
        "limit": report.limit,
    }


# --- status: tables ---------------------------------------------------------------------------------------


STATUS_CSV = {
    "queue": ["rank", "project", "id", "title", "status", "priority", "ready", "blocked_by", "assignee", "due"],
    "workload": [
        "id",
        "name",
        "hours",
        "tickets",
        "capacity_hours",
        "max_tasks",
        "availability",
        "utilization",
        "state",
        "could_take",
    ],
    "progress": [
        "project",
        "id",
        "kind",
        "title",
        "status",
        "assignee",
        "completion",
        "checklist_done",
        "checklist_total",
        "children",
        "effort_hours",
        "remaining_hours",
        "p50",
        "p90",
        "due",
        "p_late",
        "risk",
    ],
    "escalations": [
        "state",
        "rule",
        "subject",
        "project",
        "ticket",
        "agent",
        "level",
        "level_name",
        "cycle",
        "recoveries",
        "cause",
        "opened_at",
        "next_step_at",
    ],
}


def _csv_rows(report: StatusReport, section: str) -> Iterator[list[Any]]:
    data = status_data(report)
    if section == "workload":
        records = data["workload"]["agents"]
    elif section == "progress":
        records = [
            {**r, "checklist_done": r["checklist"]["done"], "checklist_total": r["checklist"]["total"]}
            for r in data["progress"]
        ]
    else:
        records = data[section]
    for record in records:
        yield [record.get(column) for column in STATUS_CSV[section]]


def render_status(out: Output, report: StatusReport) -> None:
    """`taskdist status` as JSON, CSV (one section), or rich tables section by section."""
    if out.fmt == "json":
        out.json(status_data(report))
        return
    if out.fmt == "csv":
        (section,) = report.sections
        out.csv(STATUS_CSV[section], _csv_rows(report, section))
        return
    parts: list[RenderableType] = []
    state = report.state
    health = state.workload.health.score
    parts.append(_banner(report, health))
    if "queue" in report.sections:
        parts.extend(_queue_section(out, report))
    if "workload" in report.sections:
        parts.extend(_workload_section(out, state.workload, report.limit))
    if "progress" in report.sections:
        parts.extend(_progress_section(out, report))
    if "escalations" in report.sections:
        parts.extend(_escalation_section(out, report))
    for part in parts:
        out.print(part)
    for note in state.scores.notes:
        out.note(note)


def _health_style(score: float) -> str:
    return "bold green" if score >= 75 else "bold yellow" if score >= 50 else "bold red"


def _banner(report: StatusReport, health: float) -> Text:
    from rich.text import Text

    state = report.state
    result = Text()
    result.append(" taskdist status ", style="bold reverse")
    result.append(f"  {state.now.strftime('%Y-%m-%d %H:%M')} UTC  ", style="dim")
    result.append("health ", style="bold")
    result.append(f" {health:.0f}/100 ", style=_health_style(health) + " reverse")
    summary = _summary(report)
    risk = summary["risk"]
    result.append(
        f"\n {summary['queued']} open work items, {summary['ready']} ready; at risk: "
        f"{risk['critical']} critical, {risk['high']} high; "
        f"{sum(summary['escalations'].values())} escalations",
        style="",
    )
    return result


def _queue_section(out: Output, report: StatusReport) -> list[RenderableType]:
    state = report.state
    s = state.scores
    t = s.tickets
    rows = []
    for k in report.queue_rows.tolist():
        blockers = [t.id[j] for j in s.graph.open_dependencies(k)] if s.graph.blocked[k] else []
        if s.ready[k]:
            ready = text("ready", "green")
        elif blockers:
            ready = text("waits " + ",".join(blockers), "yellow")
        else:
            ready = text("blocked", "yellow")
        owner = int(state.owner[k])
        rows.append(
            [
                text(s.rank[k]),
                text(t.id[k]),
                text(t.title[k]),
                text(f"{s.composite[k]:.1f}", "bold"),
                ready,
                text(state.agents[owner].id if owner >= 0 else (t.assignee[k] or "-")),
                text(_day(float(t.due[k]), state.now)),
            ]
        )
    head = _heading("Queue", f"top {len(rows)} of {report.queue_matched} by priority (`taskdist queue` for all)")
    if not rows:
        return [head, text("nothing queued", "dim")]
    grid = _fit(
        out,
        [
            ("#", 4, "right"),
            ("id", 12, "left"),
            ("title", None, "left"),
            ("prio", 5, "right"),
            ("ready", 14, "left"),
            ("agent", 11, "left"),
            ("due", 10, "left"),
        ],
        rows,
    )
    return [head, grid]


AGENTS_SHOWN_AT_LEAST = 12
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _workload_section(out: Output, workload: Workload, limit: int | None) -> list[RenderableType]:
    """All agents of a small team; of a large one the most loaded and the idle ones, up to the limit."""
    from rich.text import Text

    rows = []
    agents = workload.agents
    cap = None if limit is None else max(limit, AGENTS_SHOWN_AT_LEAST)
    if cap is not None and len(agents) > cap:
        by_load = sorted(agents, key=lambda a: (-a.utilization, a.id))
        agents = sorted(by_load[: cap - cap // 4] + by_load[len(by_load) - cap // 4 :], key=lambda a: a.id)
    for a in agents:
        style = STATE_STYLE.get(a.state, "")
        utilization = a.utilization
        if a.state == "away" and not a.tickets:
            shown = "away"
        elif math.isinf(utilization):
            shown = "∞"
        else:
            shown = f"{utilization:.0%}" if utilization < 9.995 else f"{utilization:.0f}x"
        cell = bar(utilization if not math.isinf(utilization) else 1.0, 15, style)
        cell.append(f" {shown:>4}", style=style)
        rows.append(
            [
                text(a.id),
                text(f"{a.hours:.0f}/{a.capacity_hours:g}"),
                text(f"{a.tickets}/{a.max_tasks}"),
                cell,
                text(a.state, style),
            ]
        )
    states: dict[str, int] = {}
    for a in workload.agents:
        states[a.state] = states.get(a.state, 0) + 1
    summary = ", ".join(f"{states[name]} {name}" for name in STATE_STYLE if states.get(name)) or "none"
    parts: list[RenderableType] = [
        _heading("Workload", f"{len(workload.agents)} agents: {summary}; imbalance (CV) {workload.imbalance:.2f}"),
    ]
    if rows:
        parts.append(
            _fit(
                out,
                [
                    ("agent", 14, "left"),
                    ("hours", 9, "right"),
                    ("tickets", 7, "right"),
                    ("utilization", 20, "left"),
                    ("state", 10, "left"),
                ],
                rows,
            )
        )
        if len(agents) < len(workload.agents):
            parts.append(text(f"the {len(agents)} most and least loaded of {len(workload.agents)} agents shown", "dim"))
    else:
        parts.append(text("no roster imported: `taskdist import --roster FILE`", "dim"))
    health = workload.health
    head = Text("Health ", style="bold")
    head.append(f" {health.score:.0f}/100 ", style=_health_style(health.score) + " reverse")
    head.append("  weighted parts (1 = good):", style="dim")
    parts.append(head)
    part_rows = []
    for name, part in health.parts.items():
        value = float(part["value"])
        style = "green" if value >= 0.75 else "yellow" if value >= 0.5 else "red"
        part_rows.append(
            [
                text(name.replace("_", " ")),
                bar(value, 10, style),
                text(f"{part['points']:.0f}/{100 * part['weight']:.0f}"),
                text(part["why"], "dim"),
            ]
        )
    parts.append(
        _fit(out, [("part", 9, "left"), ("", 10, "left"), ("pts", 5, "right"), ("why", None, "left")], part_rows)
    )
    if workload.alerts:
        alerts = sorted(workload.alerts, key=lambda a: SEVERITY_ORDER.get(a.severity, 9))
        listed = alerts if cap is None else alerts[:cap]
        alert_rows = [
            [text(a.severity, SEVERITY_STYLE.get(a.severity, "")), text(a.kind.replace("_", " ")), text(a.message)]
            for a in listed
        ]
        parts.append(_fit(out, [("alert", 8, "left"), ("kind", 13, "left"), ("message", None, "left")], alert_rows))
        if len(listed) < len(alerts):
            parts.append(text(f"... and {len(alerts) - len(listed)} more alerts (--format json lists all)", "dim"))
    else:
        parts.append(text("no alerts", "green"))
    parts.append(_forecast_text(workload.forecast))
    return parts


def _forecast_text(forecast: dict[str, Any]) -> Text:
    from rich.text import Text

    result = Text("Forecast ", style="bold")
    days = forecast["days_to_clear"]
    result.append(
        f"{forecast['backlog_hours']:.0f} h of open work"
        + (
            f" = {days:g} days at {forecast['team_hours_per_day']:.0f} h/day (clear {forecast['clear_date']})"
            if days
            else ""
        )
        + f"; ready backlog {forecast['ready_backlog_hours']:.0f} h"
        + (f" = {forecast['backlog_ratio']:.1f}x team capacity" if forecast["backlog_ratio"] is not None else "")
    )
    trend = forecast["trend"]
    result.append("\n trend: ", style="bold")
    if trend["direction"] == "unknown":
        result.append("no earlier run recorded yet (`escalate --apply` and `rebalance` record one)", style="dim")
    else:
        style = {"shrinking": "green", "growing": "red", "flat": "yellow"}[trend["direction"]]
        result.append(trend["direction"], style=style)
        result.append(
            f" ({trend['burn_hours_per_day']:+g} h/day burned since {trend['since'][:10]}"
            + (f", empty by {trend['projected_clear']}" if trend["projected_clear"] else "")
            + ")"
        )
    return result


def _progress_section(out: Output, report: StatusReport) -> list[RenderableType]:
    state = report.state
    p = state.progress
    t = state.scores.tickets
    now = state.now
    parts: list[RenderableType] = [_heading("Progress", "containers rolled up by effort, then open work by delay risk")]
    container_rows = []
    shown_below: dict[int, int] = {}
    hidden: dict[int, int] = {}
    for k, depth in report.containers:
        top = _root(p.parent_index, k)
        if depth > 0:
            shown_below[top] = shown_below.get(top, 0) + 1
            if shown_below[top] > CHILDREN_SHOWN:
                hidden[top] = hidden.get(top, 0) + 1
                continue
        completion = float(p.completion[k])
        cell = bar(completion, 10, "green" if completion >= 0.999 else "cyan")
        cell.append(f" {completion:4.0%}")
        container_rows.append(
            [
                text(("  " * depth) + t.id[k], "bold" if depth == 0 else ""),
                text(t.title[k]),
                cell,
                text(_day(float(p.p50[k]), now)),
                text(_day(float(p.p90[k]), now)),
                text(_day(float(t.due[k]), now)),
                _risk_text(p.band_at(k), float(p.p_late[k])),
            ]
        )
    columns = [
        ("id", 11, "left"),
        ("title", None, "left"),
        ("done", 15, "left"),
        ("P50", 10, "left"),
        ("P90", 10, "left"),
        ("due", 10, "left"),
        ("risk", 9, "left"),
    ]
    if container_rows:
        parts.append(_fit(out, columns, container_rows))
    if hidden:
        parts.append(
            text(
                f"{sum(hidden.values())} more sub-containers not shown ({CHILDREN_SHOWN} per epic; JSON lists all)",
                "dim",
            )
        )
    work_rows = []
    for k in report.progress_rows:
        owner = int(state.owner[k])
        detail = report.details.get((t.project[k], t.id[k]))
        boxes = f"{detail.checklist_done}/{detail.checklist_total}" if detail and detail.checklist_total else ""
        work_rows.append(
            [
                text(t.id[k]),
                text(t.title[k]),
                text(state.agents[owner].id if owner >= 0 else (t.assignee[k] or "-")),
                text(f"{p.remaining_hours[k]:.0f}h" + (f" {boxes}" if boxes else "")),
                text(_day(float(p.p50[k]), now)),
                text(_day(float(p.p90[k]), now)),
                text(_day(float(t.due[k]), now)),
                _risk_text(p.band_at(k), float(p.p_late[k])),
            ]
        )
    if work_rows:
        parts.append(
            _fit(
                out,
                [
                    ("id", 9, "left"),
                    ("title", None, "left"),
                    ("agent", 10, "left"),
                    ("left", 8, "right"),
                    ("P50", 10, "left"),
                    ("P90", 10, "left"),
                    ("due", 10, "left"),
                    ("risk", 9, "left"),
                ],
                work_rows,
            )
        )
    if not container_rows and not work_rows:
        parts.append(text("no open work", "dim"))
    else:
        parts.append(
            text(
                "left: hours of work left, checked/all boxes; P50/P90: even and 90% odds of finishing by; "
                "risk: band and P(finish after due)",
                "dim",
            )
        )
    return parts


CHILDREN_SHOWN = 4


def _root(parent_index: Any, k: int) -> int:
    while parent_index[k] >= 0:
        k = int(parent_index[k])
    return k


def _escalation_section(out: Output, report: StatusReport) -> list[RenderableType]:
    entries = report.escalations
    counts = report.escalation_counts.get("by_state", {})
    total = sum(counts.values())
    head = _heading(
        "Escalations",
        f"{counts.get('open', 0)} open, {counts.get('new', 0)} new (taken up by `taskdist escalate --apply`), "
        f"{counts.get('clearing', 0)} clearing",
    )
    if not entries:
        return [head, text("nothing to escalate", "green")]
    rows = []
    for e in entries:
        if e["state"] == "new":
            level = text("new", "bold yellow")
        elif e["state"] == "clearing":
            level = text("clears", "green")
        elif e["level"] == 0:
            level = text("recovering", "cyan")
        else:
            level = text(f"L{e['level']} {e['level_name']}", "bold red" if e["level"] > 1 else "red")
        subject = e["ticket"] or e["agent"] or e["subject"]
        rows.append([level, text(RULE_SHORT.get(e["rule"], e["rule"])), text(subject), text(e["cause"])])
    parts: list[RenderableType] = [
        head,
        _fit(
            out, [("level", 12, "left"), ("rule", 10, "left"), ("subject", 12, "left"), ("cause", None, "left")], rows
        ),
    ]
    if len(entries) < total:
        parts.append(text(f"... and {total - len(entries)} more (--limit 0 shows all)", "dim"))
    return parts


# --- escalate ------------------------------------------------------------------------------------------------


def render_sweep(out: Output, report: SweepReport) -> None:
    """`taskdist escalate`: the steps, planned or written."""
    data = report.as_dict()
    if out.fmt == "json":
        out.json(data)
        return
    if out.fmt == "csv":
        out.csv(
            ["action", "rule", "subject", "level", "level_name", "from", "to", "cause", "detail"],
            _sweep_rows(report),
        )
        return
    verb = "wrote" if report.applied else "would take (dry run; --apply writes them)"
    head = _heading("Escalation sweep", f"{report.findings} causes found, {report.open_before} escalations were open")
    if not report.steps:
        out.print(head, text("nothing to do", "green"))
        return
    rows = []
    for step in report.steps:
        style = {"recover": "cyan", "escalate": "red", "close": "green"}[step.action]
        what = step.action if step.action != "escalate" else f"L{step.level} {step.level_name}"
        detail = step.cause
        if step.action == "recover":
            detail = f"{step.from_agent or 'unassigned'} -> {step.to_agent}: {step.detail}; {step.cause}"
        elif step.detail:
            detail = f"{step.cause} ({step.detail})"
        rows.append(
            [
                text(what, style),
                text(RULE_SHORT.get(step.rule, step.rule)),
                text(step.ticket or step.agent or step.subject),
                text(detail),
            ]
        )
    table = _fit(
        out, [("step", 16, "left"), ("rule", 10, "left"), ("subject", 12, "left"), ("detail", None, "left")], rows
    )
    out.print(head, table, text(f"{len(report.steps)} steps {verb}", "bold"))


def _sweep_rows(report: SweepReport) -> Iterator[Sequence[Any]]:
    for s in report.steps:
        yield [s.action, s.rule, s.subject, s.level, s.level_name, s.from_agent, s.to_agent, s.cause, s.detail]


# --- outcomes ------------------------------------------------------------------------------------------------


def render_outcome(out: Output, result: OutcomeResult) -> None:
    if out.fmt == "json":
        out.json(result.as_dict())
        return
    if out.fmt == "csv":
        data = result.as_dict()
        out.csv(list(data), [list(data.values())])
        return
    name = f"{result.project}:{result.ticket}"
    if not result.recorded:
        out.print(text(f"{name}: {result.note}", "yellow"))
        return
    line = f"{name}: {result.kind}"
    if result.agent:
        line += f" by {result.agent}"
    line += f"; status {result.status_before} -> {result.status_after}"
    if "actual_hours" in result.data:
        line += f"; {result.data['actual_hours']:g} h actual"
    out.print(text(line, "bold"))
    if result.wrote_file:
        out.print(text(f"wrote the status into {result.wrote_file}", "dim"))
    if result.kind == "failed":
        out.print(text("the next `taskdist escalate --apply` re-assigns it to an eligible other agent", "dim"))
