"""Reports of the priority engine: `queue` (table, JSON, CSV) and `explain`.

The queue's JSON is written straight from the score arrays, one record per line, because the whole
queue of a 100,000-ticket ledger must print in well under a second; its records hold the same keys
and the same exact float values a `json.dumps` of the records would.
"""

from __future__ import annotations

import bisect
import itertools
import json
import operator
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from taskdist.forked import write_in_child
from taskdist.gc_pause import paused_gc
from taskdist.json_quote import quote_ascii as _quote
from taskdist.priority import FLAGS
from taskdist.render import Output, emit, new_table, safe, text

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


# What a JSON string (ASCII only, as json.dumps writes it) cannot hold as it is.
_NEEDS_ESCAPE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _escaped(values: list[str]) -> list[str]:
    """The inside of each value's JSON string literal, made terminal-safe like every JSON output.

    A value with nothing to escape is its own inside, so one scan of the whole column finds the
    few rows that need work and every other row costs nothing (no new string per row).
    """
    joined = "".join(values)
    found = _NEEDS_ESCAPE.search(joined)
    if found is None:
        return values
    ends = list(itertools.accumulate(map(len, values)))
    result = list(values)
    while found is not None:
        k = bisect.bisect_right(ends, found.start())
        result[k] = _quote(safe(values[k], single_line=False))[1:-1]
        found = _NEEDS_ESCAPE.search(joined, ends[k])
    return result


def _quoted_unique(values: list[str]) -> list[str]:
    """Like `_quoted` for columns of mostly distinct texts."""
    return ['"' + v + '"' for v in _escaped(values)]


def _quoted_unique_or_null(values: list[str | None]) -> list[str]:
    present = [v for v in values if v is not None]
    quoted = iter(_quoted_unique(present))
    return [next(quoted) if v is not None else "null" for v in values]


def _factor_objects(
    name: str, weight: float, values: npt.NDArray[np.float64], points: npt.NDArray[np.float64]
) -> list[str]:
    """The `"name": {"value", "weight", "contribution"}` text of one factor for each row.

    A factor takes few distinct values (urgency steps, label levels, skill sets...), and its
    contribution is value x weight: so the whole object is formatted once per distinct value (as
    bits; rows whose contribution differs in any bit are formatted on their own).
    """
    import numpy as np

    head = f'"{name}": {{"value": '
    middle = f', "weight": {weight!r}, "contribution": '
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    point_bits = np.ascontiguousarray(points, dtype=np.float64).view(np.int64)
    distinct, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
    if len(distinct) > len(bits) // 4 or not np.array_equal(point_bits[first][inverse], point_bits):
        return [f"{head}{v!r}{middle}{c!r}}}" for v, c in zip(values.tolist(), points.tolist(), strict=True)]
    texts = [f"{head}{v!r}{middle}{c!r}}}" for v, c in zip(values[first].tolist(), points[first].tolist(), strict=True)]
    return list(map(texts.__getitem__, inverse.tolist()))


def queue_json(report: QueueReport) -> str:
    """The `queue --format json` document: a list of one object per selected row, one per line."""
    if not len(report.rows):
        return "[]\n"
    return "[\n  " + _records(report, report.rows) + "\n]\n"


def _records(report: QueueReport, selected: npt.NDArray[np.int64]) -> str:
    """The JSON objects of `selected` rows, separated by `,\n  `.

    Built column by column: every field of every row is first turned into its JSON text on whole
    columns (formatting each distinct value once where values repeat, escaping only the rows that
    need it), then one join per row puts a record together with the constant parts of `_RECORD`.
    Nothing here can form a reference cycle, so the cyclic garbage collector is paused meanwhile.
    """
    with paused_gc():
        return _build_records(report, selected)


def _blocked_by(report: QueueReport, selected: npt.NDArray[np.int64]) -> list[str]:
    """The `blocked_by` list of each row as JSON text; only blocked rows cost more than a constant."""
    import numpy as np

    prerequisites, first, last = report.scores.graph.blocker_spans(selected)
    texts = ["[]"] * len(selected)
    blocked = np.nonzero(last > first)[0]
    if not len(blocked):
        return texts
    # Only the edges of the blocked rows, in row order: a short `--limit` quotes a few ids, not all.
    counts = (last - first)[blocked]
    ends = np.cumsum(counts)
    starts = ends - counts
    edge_rows = np.repeat(first[blocked] - starts, counts) + np.arange(int(ends[-1]))
    named, which = np.unique(prerequisites[edge_rows], return_inverse=True)
    ids = report.scores.tickets.id
    quoted = _quoted_unique([ids[j] for j in named.tolist()])
    edges = list(map(quoted.__getitem__, which.tolist()))
    for pos, a, b in zip(blocked.tolist(), starts.tolist(), ends.tolist(), strict=True):
        texts[pos] = "[" + ", ".join(edges[a:b]) + "]"
    return texts


# One queue record: the keys and their order are the public contract (docs/scoring.md). Each `%s`
# is a column of JSON texts; the record is put together by joining the constant parts between them.
_RECORD = (
    '{"rank": %s, "project": %s, "id": "%s", "title": "%s", "status": %s, "label": %s, "priority": %s, '
    '"ready": %s, "blocked_by": %s, "dangling": %s, "unblocks": %s, "flags": %s, "assignee": %s, "due": %s, '
    '"factors": {%s, %s, %s, %s, %s}}'
)
_RECORD_PARTS = _RECORD.split("%s")


def _build_records(report: QueueReport, selected: npt.NDArray[np.int64]) -> str:
    s = report.scores
    t = s.tickets
    rows: list[int] = selected.tolist()
    take = operator.itemgetter(*rows)

    def pick(column: Sequence[Any]) -> list[Any]:
        found = take(column)
        return list(found) if len(rows) > 1 else [found]

    dangling = s.graph.dangling
    flag_text = [json.dumps(_flag_names(code)) for code in range(1 << len(FLAG_ORDER))]
    unblocks = s.downstream_count[selected].astype(int).tolist()
    counts = {c: str(c) for c in set(unblocks)}
    columns: list[Iterable[str]] = [
        map(str, s.rank[selected].tolist()),
        _quoted(pick(t.project)),
        _escaped(pick(t.id)),
        _escaped(pick(t.title)),
        _quoted(pick(t.status)),
        _quoted(pick(t.label)),
        map(repr, s.composite[selected].tolist()),  # every float exactly, as json.dumps writes it
        map(("false", "true").__getitem__, s.ready[selected].tolist()),
        _blocked_by(report, selected),
        ["[" + ", ".join(_quote(safe(r)) for r in dangling[k]) + "]" if k in dangling else "[]" for k in rows],
        map(counts.__getitem__, unblocks),
        map(flag_text.__getitem__, _flag_codes(report, selected)),
        _quoted(pick(t.assignee)),
        _quoted_unique_or_null(pick(t.due_text)),
    ]
    for f, name in enumerate(FACTOR_NAMES):
        columns.append(_factor_objects(name, float(s.weights[f]), s.factors[selected, f], s.contributions[selected, f]))
    # Per row, one join of the constant parts and the row's texts (a `%` per row costs a fifth more).
    count = len(rows)
    pieces: list[Iterable[str]] = [itertools.repeat(_RECORD_PARTS[0], count)]
    for column, part in zip(columns, _RECORD_PARTS[1:], strict=True):
        pieces += [column, itertools.repeat(part, count)]
    return ",\n  ".join(map("".join, zip(*pieces, strict=True)))


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
