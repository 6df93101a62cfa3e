"""The dependency graph of a ledger: who waits for whom, what is blocked, cycles and dangling references.

Edges run from a prerequisite to the ticket waiting for it: `B.depends_on: [A]` and `A.blocks: [B]`
both give A -> B (A must be done before B). References resolve inside the ticket's own project (exact
id first, then case-insensitively when that is unambiguous). Parent/epic links are containment, not
dependencies, and make no edges.

- blocked: an open ticket with at least one open prerequisite. Closed tickets (done, cancelled)
  block nobody and wait for nobody.
- dangling: a reference naming no ticket of the project. It is reported, but does not block: the
  prerequisite cannot be checked, and a typo in one file must not freeze the work behind it.
- cycles: every strongly connected component of more than one ticket, and every self-reference, over
  all edges (open or closed). Open members of a cycle of open tickets are blocked by construction:
  each waits for another open member, so no order can start any of them until a person breaks it.
- downstream: the transitive dependents of a ticket through open tickets only (a closed ticket in
  between no longer waits, so nothing behind it waits through it).

Everything is linear in tickets plus edges (iterative Tarjan, no recursion), except the exact
downstream sums, whose cost is the total size of the downstream sets; past a budget (a pathological
ledger such as one chain of 100,000 tickets) they fall back to a path-sum bound and say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Total downstream-set size up to which the sums are exact (an element costs ~50 ns and ~40 bytes).
EXACT_BUDGET = 4_000_000
# Downstream sums are exact integers in thousandths of the weights' unit (hours: 3.6 seconds).
UNITS = 1000
# Deeper than this, Kahn's pass goes node by node instead of level by level.
MAX_ARRAY_LEVELS = 256


@dataclass(slots=True)
class DependencyGraph:
    """Edges between tickets (by row index) and what follows from them; see the module docstring."""

    n: int
    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    closed: BoolArray
    blocked: BoolArray
    in_cycle: BoolArray
    cycles: list[list[int]]
    dangling: dict[int, list[str]]
    _out: dict[int, list[int]] | None = None  # successors of each ticket, built when first needed
    _order: list[int] = field(default_factory=list)  # topological order of the edge nodes when acyclic
    _levels: list[npt.NDArray[np.int64]] = field(default_factory=list)  # Kahn's levels when acyclic and shallow

    def dependencies(self, i: int) -> list[int]:
        """Every existing prerequisite of ticket `i` (open or closed), in index order."""
        return sorted(self.src[self.dst == i].tolist())

    def open_dependencies(self, i: int) -> list[int]:
        """The prerequisites that block ticket `i` now."""
        return [j for j in self.dependencies(i) if not self.closed[j]]

    def blockers(self, rows: Sequence[int]) -> list[list[int]]:
        """`open_dependencies` of many tickets at once (empty lists for tickets not blocked)."""
        prerequisites, first, last = self.blocker_spans(rows)
        listed: list[int] = prerequisites.tolist()
        return [listed[a:b] for a, b in zip(first.tolist(), last.tolist(), strict=True)]

    def blocker_spans(
        self, rows: Sequence[int] | npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """`open_dependencies` of many tickets at once, without a list per ticket: the open
        prerequisites of `rows[k]` are `prerequisites[first[k]:last[k]]`, in index order."""
        live = ~self.closed[self.src]
        waiting, prerequisites = self.dst[live], self.src[live]
        order = np.lexsort((prerequisites, waiting))
        waiting, prerequisites = waiting[order], prerequisites[order]
        wanted = np.asarray(rows, dtype=np.int64)
        first = np.searchsorted(waiting, wanted, side="left")
        last = np.searchsorted(waiting, wanted, side="right")
        return prerequisites, first, last

    def dependents(self, i: int) -> list[int]:
        """Tickets that name `i` as a direct prerequisite."""
        return sorted(self.successors().get(i, ()))

    def downstream(self, i: int) -> list[int]:
        """All open tickets waiting for `i`, directly or transitively (excluding `i`), in index order."""
        if self.closed[i]:
            return []
        seen: set[int] = set()
        stack = [i]
        out = self.successors()
        while stack:
            u = stack.pop()
            for v in out.get(u, ()):
                if v not in seen and not self.closed[v]:
                    seen.add(v)
                    stack.append(v)
        seen.discard(i)
        return sorted(seen)

    def successors(self) -> dict[int, list[int]]:
        """Every edge as prerequisite -> the tickets waiting for it (the queue itself never needs it)."""
        if self._out is None:
            self._out = _adjacency(self.src, self.dst)
        return self._out

    def downstream_totals(self, weights: Sequence[FloatArray]) -> tuple[list[FloatArray], bool]:
        """For every ticket, the sum of each weight vector over its downstream set.

        Returns the sums (one array per weight vector) and whether they are exact. Only open tickets
        have downstream sets; the sums of closed tickets are zero. Weights are rounded to thousandths
        and summed as integers: exact, whatever the order, so a superset never sums lower.
        """
        return _downstream_totals(self, weights)


def build_graph(
    projects: Sequence[str],
    ids: Sequence[str],
    depends_on: Sequence[Sequence[str]],
    blocks: Sequence[Sequence[str]],
    closed: BoolArray,
) -> DependencyGraph:
    """Resolve every relation of every ticket and derive blocked, cycles and dangling references."""
    n = len(ids)
    index: dict[str, dict[str, int]] = {}
    if len(set(projects)) <= 1:
        index[projects[0] if n else ""] = dict(zip(ids, range(n), strict=True))
    else:
        for k, (p, t) in enumerate(zip(projects, ids, strict=True)):
            index.setdefault(p, {})[t] = k
    dangling: dict[int, list[str]] = {}

    def resolve(lists: Sequence[Sequence[str]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(owner row, referenced row) for every reference that names a ticket; misses go to `dangling`."""
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        if not lengths.any():  # `blocks`, usually
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
        refs = list(chain.from_iterable(lists))
        if len(index) == 1:
            found: list[int | None] = list(map(next(iter(index.values())).get, refs))
        else:
            found = [index[projects[o]].get(r) for o, r in zip(owners.tolist(), refs, strict=True)]
        if None in found:
            # Misses: the id ignoring case, when exactly one ticket of the project has it.
            owner_list = owners.tolist()
            misses = [i for i, j in enumerate(found) if j is None]
            wanted: dict[str, set[str]] = {}
            for position in misses:
                wanted.setdefault(projects[owner_list[position]], set()).add(refs[position].casefold())
            tables = {project: _folded_matches(index[project], folds) for project, folds in wanted.items()}
            for position in misses:
                owner = owner_list[position]
                found[position] = tables[projects[owner]].get(refs[position].casefold())
                if found[position] is None:
                    dangling.setdefault(owner, []).append(refs[position])
                    found[position] = -1
        targets = np.array(found, dtype=np.int64)
        keep = targets >= 0
        return owners[keep], targets[keep]

    waiting, needed = resolve(depends_on)
    blocker, blocked_rows = resolve(blocks)
    src_a = np.concatenate([needed, blocker])
    dst_a = np.concatenate([waiting, blocked_rows])
    if len(src_a):
        # The same edge stated from both ends (depends_on and blocks) counts once.
        unique = _distinct(src_a * max(n, 1) + dst_a)
        src_a, dst_a = unique // max(n, 1), unique % max(n, 1)
    closed = np.asarray(closed, dtype=bool)
    blocked = np.zeros(n, dtype=bool)
    if len(src_a):
        blocked[dst_a[~closed[src_a]]] = True
    blocked &= ~closed

    graph = DependencyGraph(
        n=n,
        src=src_a,
        dst=dst_a,
        closed=closed,
        blocked=blocked,
        in_cycle=np.zeros(n, dtype=bool),
        cycles=[],
        dangling=dangling,
    )
    order, rest, levels = _topological(n, src_a, dst_a, graph.successors)
    graph.cycles = _cycles(graph.successors, src_a, dst_a, rest)
    for members in graph.cycles:
        graph.in_cycle[members] = True
    if not rest:
        graph._order, graph._levels = order, levels
    return graph


def _folded_matches(here: dict[str, int], wanted: set[str]) -> dict[str, int]:
    """Row of the one id of `here` (id -> row) whose casefold is each of `wanted`; folds shared by
    several ids (equal but for case) are ambiguous and left out."""
    # One casefold of all ids joined (folding is per character) instead of a call per id; and the
    # usual misses are ids no ticket has in any case, found by one pass, without a table of all.
    folds = "\x00".join(here).casefold().split("\x00")
    if len(folds) != len(here):  # an id holding NUL
        folds = list(map(str.casefold, here))
    present = set(filter(wanted.__contains__, folds))
    if not present:
        return {}
    table: dict[str, int] = {}
    shared: set[str] = set()
    for fold, row in zip(folds, here.values(), strict=True):
        if fold in present:
            if fold in table:
                shared.add(fold)
            table[fold] = row
    for fold in shared:
        del table[fold]
    return table


def _distinct(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The sorted distinct values (`np.unique` without indices imports numpy.ma: 10-20 ms at start)."""
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _adjacency(src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for u, v in zip(src.tolist(), dst.tolist(), strict=True):
        out.setdefault(u, []).append(v)
    return out


def _topological(
    n: int, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], out: Callable[[], dict[int, list[int]]]
) -> tuple[list[int], set[int], list[npt.NDArray[np.int64]]]:
    """A topological order of the tickets with edges, those left over (on or behind a cycle), and
    the order's levels (each sorted; empty when the graph was too deep for the level pass).

    Kahn's algorithm a level at a time on whole arrays: real graphs are a few dozen levels deep. A
    deep one (a long chain) switches to the plain one-node-at-a-time pass, linear at any depth.
    """
    if not len(src):
        return [], set(), []
    involved = np.zeros(n, dtype=bool)
    involved[src] = True
    involved[dst] = True
    indegree = np.bincount(dst, minlength=n)
    by_source = dst[np.argsort(src, kind="stable")]
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=starts[1:])
    frontier = np.nonzero(involved & (indegree == 0))[0]
    levels: list[npt.NDArray[np.int64]] = []
    while frontier.size:
        if len(levels) > MAX_ARRAY_LEVELS:
            return (*_kahn(out()), [])
        levels.append(frontier)
        counts = starts[frontier + 1] - starts[frontier]
        total = int(counts.sum())
        if not total:
            break
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        targets = by_source[np.repeat(starts[frontier], counts) + offsets]
        indegree -= np.bincount(targets, minlength=n)
        candidates = _distinct(targets)
        frontier = candidates[indegree[candidates] == 0]
    order: list[int] = np.concatenate(levels).tolist() if levels else []
    rest = set(np.nonzero(involved & (indegree > 0))[0].tolist())
    return order, rest, levels


def _kahn(out: dict[int, list[int]]) -> tuple[list[int], set[int]]:
    """Kahn's algorithm one node at a time (for deep graphs)."""
    indegree: dict[int, int] = dict.fromkeys(out, 0)
    for targets in out.values():
        for v in targets:
            indegree[v] = indegree.get(v, 0) + 1
    ready = [u for u, d in indegree.items() if d == 0]
    order: list[int] = []
    while ready:
        u = ready.pop()
        order.append(u)
        for v in out.get(u, ()):
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    rest = {u for u, d in indegree.items() if d > 0} if len(order) < len(indegree) else set()
    return order, rest


def _cycles(
    out: Callable[[], dict[int, list[int]]], src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], rest: set[int]
) -> list[list[int]]:
    """Members of every cycle: components of more than one ticket, and self-references.

    Kahn's pass has already removed everything acyclic; Tarjan runs only on what is left.
    """
    if not rest:
        return []
    loops = {int(u) for u in src[src == dst]}
    cycles = [sorted(c) for c in strongly_connected(out(), sorted(rest)) if len(c) > 1 or c[0] in loops]
    return sorted(cycles)


def strongly_connected(out: dict[int, list[int]], nodes: Sequence[int]) -> list[list[int]]:
    """Tarjan's algorithm without recursion over the subgraph induced by `nodes`.

    Components come out in reverse topological order: every component after the ones it points to.
    """
    allowed = set(nodes)
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            u, position = work[-1]
            if position == 0:
                index_of[u] = low[u] = counter
                counter += 1
                stack.append(u)
                on_stack.add(u)
            targets = out.get(u, ())
            advanced = False
            while position < len(targets):
                v = targets[position]
                position += 1
                if v not in allowed:
                    continue
                if v not in index_of:
                    work[-1] = (u, position)
                    work.append((v, 0))
                    advanced = True
                    break
                if v in on_stack:
                    low[u] = min(low[u], index_of[v])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[u])
            if low[u] == index_of[u]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == u:
                        break
                components.append(component)
    return components


def _downstream_totals(graph: DependencyGraph, weights: Sequence[FloatArray]) -> tuple[list[FloatArray], bool]:
    n = graph.n
    # Integer thousandths: sums are exact and order-free, so equal sets give equal sums and a
    # superset never sums lower (float sums in different orders can differ in the last bit).
    units = [np.rint(np.asarray(w, dtype=np.float64) * UNITS).astype(np.int64) for w in weights]
    within_budget = True
    if graph._levels:
        # Acyclic and shallow (the usual case): whole levels at a time on arrays.
        totals = _level_sums(graph, units)
        if totals is not None:
            return [total / UNITS for total in totals], True
        within_budget = False
    closed = graph.closed.tolist()
    out_open: dict[int, list[int]] = {}
    for u, targets in graph.successors().items():
        if closed[u]:
            continue
        kept = [v for v in targets if not closed[v]]
        if kept:
            out_open[u] = kept
    if not out_open:
        return [np.zeros(n, dtype=np.float64) for _ in weights], True
    if graph._order:
        # Acyclic: Kahn's order from building the graph, children first.
        # Only tickets something waits on have a downstream set to build.
        components = [[u] for u in reversed(graph._order) if u in out_open]
    else:
        nodes = sorted(set(out_open) | {v for targets in out_open.values() for v in targets})
        components = strongly_connected(out_open, nodes)
    totals = [np.zeros(n, dtype=np.int64) for _ in weights]
    exact = within_budget and _exact_sums(out_open, components, units, totals)
    if not exact:
        totals = [np.zeros(n, dtype=np.int64) for _ in weights]
        _path_sums(out_open, components, [u.tolist() for u in units], totals)
    return [total / UNITS for total in totals], exact


def _ramp(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, .., count - 1 for each count, concatenated."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(ends - counts, counts)


def _level_sums(graph: DependencyGraph, units: list[npt.NDArray[np.int64]]) -> list[npt.NDArray[np.int64]] | None:
    """Exact downstream sums of an acyclic graph, a Kahn level at a time, deepest level first.

    A ticket's downstream set is its open children plus their sets, which are complete by then (a
    child lies on a deeper level). The sets of one level are built on whole arrays (every child
    and every member of its set, then the distinct (ticket, member) pairs) and appended to one
    buffer, where each ticket's set is a span. None when the sets outgrow `EXACT_BUDGET`.
    """
    n = graph.n
    live = ~graph.closed[graph.src] & ~graph.closed[graph.dst]
    order = np.argsort(graph.src[live], kind="stable")
    src, dst = graph.src[live][order], graph.dst[live][order]
    totals = [np.zeros(n, dtype=np.int64) for _ in units]
    if not len(src):
        return totals
    children = np.bincount(src, minlength=n)
    first_child = np.zeros(n, dtype=np.int64)
    np.cumsum(children[:-1], out=first_child[1:])
    start = np.zeros(n, dtype=np.int64)  # ticket k's set is members[start[k]:end[k]]
    end = np.zeros(n, dtype=np.int64)
    members = np.empty(max(1024, 2 * len(src)), dtype=np.int64)
    used = 0
    for level in reversed(graph._levels):
        nodes = level[children[level] > 0]
        if not len(nodes):
            continue
        count = children[nodes]
        edge = np.repeat(first_child[nodes], count) + _ramp(count)
        owner, child = src[edge], dst[edge]
        size = 1 + end[child] - start[child]  # the child itself, then its set
        step = _ramp(size)
        # Position step - 1 of the child's set; step 0 is the child itself (the index is then unused).
        at = np.repeat(start[child] - 1, size) + step
        found = np.where(step == 0, np.repeat(child, size), members[np.maximum(at, 0)])
        pairs = _distinct(np.repeat(owner, size) * n + found)
        owners, found = pairs // n, pairs % n
        if used + len(found) > EXACT_BUDGET:
            return None
        if used + len(found) > len(members):
            members = np.resize(members, 2 * (used + len(found)))
        members[used : used + len(found)] = found
        # Nodes are sorted and the pairs are sorted by owner: each node's set is one run.
        start[nodes] = used + np.searchsorted(owners, nodes, side="left")
        end[nodes] = used + np.searchsorted(owners, nodes, side="right")
        used += len(found)
    # The spans tile members[:used]: one reduceat gives every set's sum.
    rows = np.nonzero(end > start)[0]
    rows = rows[np.argsort(start[rows], kind="stable")]
    for total, weight in zip(totals, units, strict=True):
        total[rows] = np.add.reduceat(weight[members[:used]], start[rows])
    return totals


def _exact_sums(
    out: dict[int, list[int]],
    components: list[list[int]],
    units: list[npt.NDArray[np.int64]],
    totals: list[npt.NDArray[np.int64]],
) -> bool:
    """Downstream sets built children-first (reverse topological order), each summed once."""
    below: dict[int, frozenset[int]] = {}
    spent = 0
    rows: list[int] = []
    owners: list[int] = []  # per row: which set (segment of `flat`) is its downstream set
    starts: list[int] = []
    flat: list[int] = []
    empty: frozenset[int] = frozenset()
    for members in components:
        if len(members) == 1 and members[0] not in out.get(members[0], ()):
            # The usual case, a ticket on no cycle: its children's sets plus the children.
            u = members[0]
            children = out.get(u)
            if not children:
                continue
            if len(children) == 1:
                v = children[0]
                frozen = below.get(v, empty) | {v}
            else:
                reach = set(children)
                for v in children:
                    reach.update(below.get(v, empty))
                frozen = frozenset(reach)
        else:
            inside = set(members)
            reach = set(members)
            for u in members:
                for v in out.get(u, ()):
                    if v not in inside:
                        reach.add(v)
                        reach.update(below.get(v, empty))
            frozen = frozenset(reach)
        spent += len(frozen)
        if spent > EXACT_BUDGET:
            return False
        segment = len(starts)
        starts.append(len(flat))
        flat.extend(frozen)
        for u in members:
            below[u] = frozen
            rows.append(u)
            owners.append(segment)
    if not rows:
        return True
    members_of = np.asarray(flat, dtype=np.int64)
    segments = np.asarray(starts, dtype=np.int64)
    row_index = np.asarray(rows, dtype=np.int64)
    owner = np.asarray(owners, dtype=np.int64)
    # A ticket is not its own dependent, even inside a cycle (only cycle members are in their own set).
    own = np.array([u in below[u] for u in rows], dtype=bool)
    for total, weight in zip(totals, units, strict=True):
        sums = np.add.reduceat(weight[members_of], segments)[owner]
        total[row_index] = np.where(own, sums - weight[row_index], sums)
    return True


def _path_sums(
    out: dict[int, list[int]],
    components: list[list[int]],
    columns: list[list[int]],
    totals: list[npt.NDArray[np.int64]],
) -> None:
    """Fallback bound: each dependent counted once per path to it (exact on trees and chains)."""
    sums: dict[int, list[int]] = {}
    zero = [0] * len(columns)
    for members in components:
        inside = set(members)
        acc = [0] * len(columns)
        for u in members:
            for v in out.get(u, ()):
                if v in inside:
                    continue
                below = sums.get(v, zero)
                for k, column in enumerate(columns):
                    acc[k] += column[v] + below[k]
        if len(members) > 1:
            for k, column in enumerate(columns):
                acc[k] += sum(column[u] for u in members)
        for u in members:
            sums[u] = acc
            for k, column in enumerate(columns):
                # Python ints cannot overflow; the array holds them while they fit in 64 bits.
                totals[k][u] = min(acc[k] - (column[u] if len(members) > 1 else 0), np.iinfo(np.int64).max)
