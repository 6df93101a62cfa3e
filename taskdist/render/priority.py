"""Reports of the priority engine: `queue` (table, JSON, CSV) and `explain`.

The queue's JSON is written straight from the score arrays, one record per line, because the whole
queue of a 100,000-ticket ledger must print in well under a second; its records hold the same keys
and the same exact float values a `json.dumps` of the records would.
"""

from __future__ import annotations

import itertools
import json
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quote
from typing import TYPE_CHECKING, Any

from taskdist.forked import write_in_child
from taskdist.gc_pause import paused_gc
from taskdist.priority import FLAGS
from taskdist.render import _CONTROL, Output, emit, new_table, safe, text

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from rich.console import RenderableType

    from taskdist.explain import Explanation
    from taskdist.queue import QueueReport

FACTOR_NAMES = ("urgency", "business_impact", "resource_efficiency", "revenue", "dependency")
SHORT = {
    "urgency": "urg",
    "business_impact": "biz",
    "resource_efficiency": "eff",
    "revenue": "rev",
    "dependency": "dep",
}
STATUS_SHORT = {"open": "open", "in_progress": "prog", "review": "rev", "blocked": "blkd"}
FLAG_ORDER = FLAGS
QUEUE_COLUMNS = [
    "rank",
    "project",
    "id",
    "title",
    "status",
    "label",
    "priority",
    *FACTOR_NAMES,
    "ready",
    "blocked_by",
    "dangling",
    "unblocks",
    "flags",
    "assignee",
    "due",
]


def _flag_codes(report: QueueReport, rows: npt.NDArray[np.int64] | None = None) -> list[int]:
    """A bit per flag (FLAG_ORDER) for each of `rows` (default: the selected rows), on whole arrays."""
    import numpy as np

    rows = report.rows if rows is None else rows
    masks = report.scores.flag_masks()
    codes = np.zeros(len(rows), dtype=np.int64)
    for bit, name in enumerate(FLAG_ORDER):
        codes |= masks[name][rows].astype(np.int64) << bit
    result: list[int] = codes.tolist()
    return result


def _flag_names(code: int) -> list[str]:
    return [name for bit, name in enumerate(FLAG_ORDER) if code >> bit & 1]


def queue_records(report: QueueReport) -> list[dict[str, Any]]:
    """The queue as plain records (CSV, `status`, tests): exactly what the JSON output holds."""
    records: list[dict[str, Any]] = json.loads(queue_json(report))
    return records


def _quoted(values: list[str | None]) -> list[str]:
    """JSON string literals (null for None) for a column of few distinct values, made terminal-safe
    like every other JSON output."""
    table = {v: "null" if v is None else _quote(safe(v, single_line=False)) for v in set(values)}
    return list(map(table.__getitem__, values))


def _quoted_unique(values: list[str]) -> list[str]:
    """Like `_quoted` for columns of mostly distinct texts: one scan decides whether any needs escaping."""
    if _CONTROL.search("\n".join(values)):
        return [_quote(safe(v, single_line=False)) for v in values]
    return list(map(_quote, values))


def _quoted_unique_or_null(values: list[str | None]) -> list[str]:
    present = [v for v in values if v is not None]
    quoted = iter(_quoted_unique(present))
    return [next(quoted) if v is not None else "null" for v in values]


def _reprs(values: list[float]) -> list[str]:
    """Exact (round-trip) float literals; in a column of few distinct values, each is formatted once."""
    distinct = set(values)
    if len(distinct) > len(values) // 4:
        return list(map(repr, values))
    table = {v: repr(v) for v in distinct}
    return list(map(table.__getitem__, values))


def queue_json(report: QueueReport) -> str:
    """The `queue --format json` document: a list of one object per selected row, one per line."""
    if not len(report.rows):
        return "[]\n"
    return "[\n  " + _records(report, report.rows) + "\n]\n"


def _records(report: QueueReport, selected: npt.NDArray[np.int64]) -> str:
    """The JSON objects of `selected` rows, separated by `,\n  `.

    Built column by column: every field of every row is first turned into its JSON text on whole
    columns, then the pieces are interleaved with the constant parts and joined once (a per-row
    format call costs several times more at 100,000 rows). Nothing here can form a reference
    cycle, so the cyclic garbage collector is paused meanwhile.
    """
    with paused_gc():
        return _build_records(report, selected)


def _build_records(report: QueueReport, selected: npt.NDArray[np.int64]) -> str:
    s = report.scores
    t = s.tickets
    rows: list[int] = selected.tolist()
    take = operator.itemgetter(*rows)

    def pick(column: Sequence[Any]) -> list[Any]:
        found = take(column)
        return list(found) if len(rows) > 1 else [found]

    dangling = s.graph.dangling
    blockers = s.graph.blockers(rows)
    named = {j for found in blockers for j in found}
    quoted_ids = dict(zip(named, _quoted_unique([t.id[j] for j in named]), strict=True))
    flag_text = {code: json.dumps(_flag_names(code)) for code in range(1 << len(FLAG_ORDER))}
    composite = _reprs(s.composite[selected].tolist())
    fields: list[tuple[str, Iterable[str]]] = [
        ('{"rank": ', map(str, s.rank[selected].tolist())),
        (', "project": ', _quoted(pick(t.project))),
        (', "id": ', _quoted_unique(pick(t.id))),
        (', "title": ', _quoted_unique(pick(t.title))),
        (', "status": ', _quoted(pick(t.status))),
        (', "label": ', _quoted(pick(t.label))),
        (', "priority": ', composite),
        (', "ready": ', ["true" if r else "false" for r in s.ready[selected].tolist()]),
        (
            ', "blocked_by": ',
            ["[" + ", ".join(map(quoted_ids.__getitem__, found)) + "]" if found else "[]" for found in blockers],
        ),
        (
            ', "dangling": ',
            ["[" + ", ".join(_quote(safe(r)) for r in dangling[k]) + "]" if k in dangling else "[]" for k in rows],
        ),
        (', "unblocks": ', map(str, s.downstream_count[selected].astype(int).tolist())),
        (', "flags": ', map(flag_text.__getitem__, _flag_codes(report, selected))),
        (', "assignee": ', _quoted(pick(t.assignee))),
        (', "due": ', _quoted_unique_or_null(pick(t.due_text))),
    ]
    opening = ', "factors": {'
    for f, name in enumerate(FACTOR_NAMES):
        weight = repr(float(s.weights[f]))
        fields.append((f'{opening}"{name}": {{"value": ', _reprs(s.factors[selected, f].tolist())))
        fields.append((f', "weight": {weight}, "contribution": ', _reprs(s.contributions[selected, f].tolist())))
        opening = "}, "
    separators = itertools.chain([""], itertools.repeat("}}},\n  ", len(rows) - 1))
    columns: list[Iterable[str]] = [separators]
    for constant, values in fields:
        columns.append(itertools.repeat(constant, len(rows)))
        columns.append(values)
    return "".join(itertools.chain.from_iterable(zip(*columns, strict=True))) + "}}}"


def render_queue(out: Output, report: QueueReport) -> None:
    """`taskdist queue` in the chosen format; notes (cycles, roster) go to stderr."""
    if out.fmt == "json":
        _write_json(report)
        return
    if out.fmt == "csv":
        out.csv(QUEUE_COLUMNS, _csv_rows(report))
        return
    out.print(_queue_table(report, out))
    for note in report.scores.notes:
        out.note(note)


# From this many rows on, the JSON text is built by two processes (see `_write_json`).
PARALLEL_ROWS = 20_000


def _write_json(report: QueueReport) -> None:
    """Write the queue's JSON; a big queue is built in two halves, the second by a forked child
    (see `taskdist.forked`): the output is the same bytes either way."""
    rows = report.rows
    out = getattr(sys.stdout, "buffer", None)
    try:
        fd = out.fileno() if out is not None else -1
    except (OSError, ValueError):  # not a real file (an embedding's StringIO): no second writer
        fd = -1
    if len(rows) < PARALLEL_ROWS or out is None or fd < 0:
        sys.stdout.write(queue_json(report))
        return
    half = len(rows) // 2
    sys.stdout.flush()
    out.flush()
    tail = write_in_child(lambda: b",\n  " + _records(report, rows[half:]).encode("ascii"), fd)
    # The text is ASCII (non-ASCII is escaped): bytes go straight out, without another copy as str.
    out.write(b"[\n  " + _records(report, rows[:half]).encode("ascii"))
    out.flush()
    tail()
    out.write(b"\n]\n")
    out.flush()


def _csv_rows(report: QueueReport) -> Iterator[list[Any]]:
    for record in queue_records(report):
        yield [
            record["rank"],
            record["project"],
            record["id"],
            record["title"],
            record["status"],
            record["label"],
            record["priority"],
            *(record["factors"][name]["value"] for name in FACTOR_NAMES),
            record["ready"],
            record["blocked_by"],
            record["dangling"],
            record["unblocks"],
            record["flags"],
            record["assignee"],
            record["due"],
        ]


def _queue_table(report: QueueReport, out: Output) -> RenderableType:
    """Wide terminals get a column per field; narrow ones (80 columns) fold factors into one cell and
    put due date and assignee after the title, so every row stays on one line."""
    from rich.cells import cell_len

    s = report.scores
    t = s.tickets
    width = out.console().width
    wide = width >= 120
    shown: list[int] = report.rows.tolist()
    several = len({t.project[k] for k in shown}) > 1 and wide
    codes = _flag_codes(report)
    cells: list[list[Any]] = []
    for pos, k in enumerate(shown):
        blockers = [t.id[j] for j in s.graph.open_dependencies(k)] if s.graph.blocked[k] else []
        marks = "".join(MARK[f] for f in _flag_names(codes[pos]) if f in MARK)
        # Marks first: a narrow column cuts the end of the cell, never the cycle or dangling mark.
        state = text(marks + " " if marks else "", "bold red")
        if s.ready[k]:
            state.append("yes", "green")
        elif blockers:
            state.append(("blocked by " if wide else "no: ") + ",".join(blockers), "yellow")
        else:
            state.append("status blocked" if wide else "no: status", "yellow")
        due = (t.due_text[k] or "")[:10]
        title = text(t.title[k])
        values = [100 * v for v in s.factors[k].tolist()]
        row = [text(s.rank[k]), *([text(t.project[k])] if several else []), text(t.id[k]), title]
        if wide:
            row += [
                text(t.status[k]),
                text(f"{s.composite[k]:.1f}", "bold"),
                *[text(f"{v:.0f}", "dim" if v == 0 else "") for v in values],
                state,
                text(t.assignee[k] or "-"),
                text(due),
            ]
        else:
            who = f"@{t.assignee[k]}" if t.assignee[k] else ""
            extra = " · ".join(x for x in (f"due {due}" if due else "", who) if x)
            if extra:
                title.append("\n" + safe(extra), style="dim")
            row += [
                text(STATUS_SHORT.get(t.status[k], t.status[k])),
                text(f"{s.composite[k]:.1f}", "bold"),
                text(" ".join(f"{v:3.0f}" for v in values)),
                state,
            ]
        cells.append(row)
    if wide:
        names = ["#", *(["project"] if several else []), "id", "title", "status", "prio"]
        names += [SHORT[n] for n in FACTOR_NAMES] + ["ready", "assignee", "due"]
    else:
        names = ["#", "id", "title", "st", "prio", " ".join(SHORT[n] for n in FACTOR_NAMES), "ready"]
    limits = {"project": 16, "id": 22, "ready": 24 if wide else 12, "assignee": 16}
    widths = [
        min(limits.get(name, 10**6), max([cell_len(name)] + [cell_len(row[c].plain) for row in cells]))
        for c, name in enumerate(names)
    ]
    title_at = names.index("title")
    # Rich cannot shrink no_wrap cells: the title gets whatever the other columns leave.
    others = sum(w for c, w in enumerate(widths) if c != title_at) + 2 * (len(names) - 1)
    widths[title_at] = max(12, min(widths[title_at], width - others))
    numeric = {"#", "prio", *SHORT.values()}
    grid = new_table(
        None,
        [
            (
                name,
                {
                    "no_wrap": True,
                    "overflow": "ellipsis",
                    "width": widths[c],
                    "justify": "right" if name in numeric else "left",
                },
            )
            for c, name in enumerate(names)
        ],
    )
    grid.show_edge = False
    grid.pad_edge = False
    grid.collapse_padding = True
    for row in cells:
        grid.add_row(*row)
    grid.caption = _caption(report)
    grid.caption_justify = "left"
    return grid


MARK = {"cycle": "↻", "dangling": "?", "capability gap": "∅", "overdue": "!", "cannot finish in time": "!"}


def _caption(report: QueueReport) -> str:
    s = report.scores
    shown = len(report.rows)
    ready = int(s.ready[s.queued].sum())
    parts = [
        f"{shown} of {report.matched} matching ({len(s.order)} queued, {ready} ready)",
        "factors in %, weighted: "
        + ", ".join(
            f"{SHORT[n]} {n.replace('_', ' ')} {w:.2f}" for n, w in zip(FACTOR_NAMES, s.weights.tolist(), strict=True)
        ),
    ]
    cycles = report.cycles()
    if cycles:
        parts.append(f"↻ {len(cycles)} dependency cycle(s): " + "; ".join(" -> ".join(c) for c in cycles[:3]))
    if report.dangling_count():
        parts.append(f"? {report.dangling_count()} dangling reference(s) (shown, not blocking)")
    gaps = int(s.capability_gap.sum())
    if gaps:
        parts.append(f"∅ {gaps} capability gap(s): no agent reaches {s.min_match:.0%} skill coverage")
    parts.append("! overdue or cannot finish in time; `taskdist explain ID` for the why")
    return safe("\n".join(parts), single_line=False)


# --- explain ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ExplainSection:
    """A part another module appends to `explain`: its JSON key and value, its table, its CSV rows."""

    key: str
    data: Any
    table: Callable[[], RenderableType]
    rows: Callable[[], Iterable[Sequence[Any]]] | None = None


EXPLAIN_COLUMNS = ["part", "name", "value", "weight", "contribution", "detail"]


def explain_data(exp: Explanation) -> dict[str, Any]:
    """The JSON document of `explain` (without appended sections)."""
    change = exp.next_change
    return {
        "project": exp.project,
        "id": exp.id,
        "title": exp.title,
        "kind": exp.kind,
        "status": exp.status,
        "label": exp.label,
        "assignee": exp.assignee,
        "due": exp.due,
        "queued": exp.queued,
        "ready": exp.ready,
        "rank": exp.rank,
        "queue_size": exp.queue_size,
        "priority": exp.composite,
        "factors": {
            line.name: {
                "value": line.value,
                "weight": line.weight,
                "contribution": line.contribution,
                "inputs": line.inputs,
            }
            for line in exp.factors
        },
        "blocked_by": exp.blocked_by,
        "dangling": exp.dangling,
        "cycles": exp.cycles,
        "unblocks": exp.unblocks,
        "next_change": None
        if change is None
        else {
            "at": _stamp(change.at),
            "urgency_before": change.urgency_before,
            "urgency_after": change.urgency_after,
            "reason": change.reason,
        },
        "flags": exp.flags,
        "notes": exp.notes,
    }


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_explain(out: Output, exp: Explanation, extra: Sequence[ExplainSection] = ()) -> None:
    """`taskdist explain` in the chosen format, followed by any appended sections."""
    data = explain_data(exp)
    for section in extra:
        data[section.key] = section.data

    def rows() -> Iterator[Sequence[Any]]:
        for line in exp.factors:
            yield ["factor", line.name, line.value, line.weight, line.contribution, line.inputs]
        yield ["total", "priority", exp.composite, 1.0, exp.composite, f"rank {exp.rank} of {exp.queue_size}"]
        for ref in exp.blocked_by:
            yield ["blocked_by", ref, None, None, None, ""]
        for ref in exp.dangling:
            yield ["dangling", ref, None, None, None, "names no ticket; not blocking"]
        for ref in exp.unblocks:
            yield ["unblocks", ref, None, None, None, ""]
        if exp.next_change is not None:
            yield [
                "next_change",
                _stamp(exp.next_change.at),
                exp.next_change.urgency_after,
                None,
                None,
                exp.next_change.reason,
            ]
        for section in extra:
            if section.rows is not None:
                yield from section.rows()

    def table() -> RenderableType:
        from rich.console import Group

        parts = [*_explain_parts(exp, out.console().width)]
        parts.extend(section.table() for section in extra)
        return Group(*parts)

    emit(out, data, EXPLAIN_COLUMNS, rows, table)


def _explain_parts(exp: Explanation, width: int) -> list[RenderableType]:
    head = text(f"{exp.project}:{exp.id}  ", "bold")
    head.append(safe(exp.title))
    state = "ready" if exp.ready else ("blocked" if exp.queued else "not queued")
    where = f"rank {exp.rank} of {exp.queue_size}" if exp.rank else "not ranked"
    summary = text(
        f"{exp.kind}, {exp.status}, priority label {exp.label or 'none'}, "
        f"assignee {exp.assignee or '-'}, due {exp.due or '-'}; {state}; {where}"
    )
    # Narrow terminals: the words behind each factor go under the table instead of in a thin column.
    beside = width >= 110
    grid = new_table(
        None,
        [
            ("factor", {"no_wrap": True}),
            ("value", {"justify": "right", "no_wrap": True}),
            ("× weight", {"justify": "right", "no_wrap": True}),
            ("= points", {"justify": "right", "no_wrap": True}),
            *([("from", {"ratio": 1, "min_width": 20, "overflow": "fold"})] if beside else []),
        ],
    )
    for line in exp.factors:
        grid.add_row(
            text(line.name.replace("_", " ")),
            text(f"{line.value:.3f}"),
            text(f"{line.weight:.3f}"),
            text(f"{line.contribution:.2f}"),
            *([text(line.inputs, "dim")] if beside else []),
        )
    total = [text("priority", "bold"), text(""), text(""), text(f"{exp.composite:.2f}", "bold")]
    grid.add_row(*total, *([text("0-100")] if beside else []))
    parts: list[RenderableType] = [head, summary, grid]
    if not beside:
        for line in exp.factors:
            words = text(f"{line.name.replace('_', ' ')}: ", "bold")
            words.append(safe(line.inputs))
            parts.append(words)
        parts.append(text(""))
    parts.append(_listing("blocked by", exp.blocked_by, "nothing: all its prerequisites are closed"))
    if exp.dangling:
        parts.append(_listing("dangling (not blocking)", exp.dangling, ""))
    for cycle in exp.cycles:
        parts.append(text("in cycle: " + " -> ".join(cycle), "bold red"))
    parts.append(_listing(f"unblocks ({len(exp.unblocks)})", exp.unblocks, "nothing waits on it"))
    change = exp.next_change
    if change is None:
        parts.append(text("next change: none by itself (urgency has no further step)", "dim"))
    else:
        parts.append(
            text(
                f"next change: {_stamp(change.at)}, urgency {change.urgency_before:.3f} -> "
                f"{change.urgency_after:.3f} ({change.reason})"
            )
        )
    for flag in exp.flags:
        parts.append(text(f"flag: {flag}", "yellow"))
    for note in exp.notes:
        parts.append(text(note, "dim"))
    return parts


def _listing(label: str, items: list[str], empty: str) -> Any:
    line = text(f"{label}: ", "bold")
    line.append(safe(", ".join(items)) if items else empty)
    return line
