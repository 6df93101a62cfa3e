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

from collections import Counter
from collections.abc import Sequence
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
    _out: dict[int, list[int]] = field(default_factory=dict)
    _order: list[int] = field(default_factory=list)  # topological order of the edge nodes when acyclic

    def dependencies(self, i: int) -> list[int]:
        """Every existing prerequisite of ticket `i` (open or closed), in index order."""
        return sorted(self.src[self.dst == i].tolist())

    def open_dependencies(self, i: int) -> list[int]:
        """The prerequisites that block ticket `i` now."""
        return [j for j in self.dependencies(i) if not self.closed[j]]

    def blockers(self, rows: Sequence[int]) -> list[list[int]]:
        """`open_dependencies` of many tickets at once (empty lists for tickets not blocked)."""
        live = ~self.closed[self.src]
        order = np.lexsort((self.src[live], self.dst[live]))
        waiting = self.dst[live][order]
        prerequisites: list[int] = self.src[live][order].tolist()
        wanted = np.asarray(rows, dtype=np.int64)
        first = np.searchsorted(waiting, wanted, side="left").tolist()
        last = np.searchsorted(waiting, wanted, side="right").tolist()
        return [prerequisites[a:b] for a, b in zip(first, last, strict=True)]

    def dependents(self, i: int) -> list[int]:
        """Tickets that name `i` as a direct prerequisite."""
        return sorted(self._out.get(i, ()))

    def downstream(self, i: int) -> list[int]:
        """All open tickets waiting for `i`, directly or transitively (excluding `i`), in index order."""
        if self.closed[i]:
            return []
        seen: set[int] = set()
        stack = [i]
        while stack:
            u = stack.pop()
            for v in self._out.get(u, ()):
                if v not in seen and not self.closed[v]:
                    seen.add(v)
                    stack.append(v)
        seen.discard(i)
        return sorted(seen)

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
    folded: dict[str, dict[str, int]] = {}
    dangling: dict[int, list[str]] = {}

    def fallback(project: str, ref: str) -> int | None:
        """Case-insensitive lookup, built on the first miss; ids equal but for case are ambiguous."""
        if project not in folded:
            here = index[project]
            folded_ids = list(map(str.casefold, here))
            table = dict(zip(folded_ids, here.values(), strict=True))
            if len(table) < len(here):
                for key, count in Counter(folded_ids).items():
                    if count > 1:
                        del table[key]
            folded[project] = table
        return folded[project].get(ref.casefold())

    def resolve(lists: Sequence[Sequence[str]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(owner row, referenced row) for every reference that names a ticket; misses go to `dangling`."""
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
        refs = list(chain.from_iterable(lists))
        if len(index) == 1:
            found: list[int | None] = list(map(next(iter(index.values())).get, refs))
        else:
            found = [index[projects[o]].get(r) for o, r in zip(owners.tolist(), refs, strict=True)]
        if None in found:
            owner_list = owners.tolist()
            for position in [i for i, j in enumerate(found) if j is None]:
                owner = owner_list[position]
                found[position] = fallback(projects[owner], refs[position])
                if found[position] is None:
                    dangling.setdefault(owner, []).append(refs[position])
        targets = np.array([-1 if j is None else j for j in found], dtype=np.int64)
        keep = targets >= 0
        return owners[keep], targets[keep]

    waiting, needed = resolve(depends_on)
    blocker, blocked_rows = resolve(blocks)
    src_a = np.concatenate([needed, blocker])
    dst_a = np.concatenate([waiting, blocked_rows])
    if len(src_a):
        # The same edge stated from both ends (depends_on and blocks) counts once.
        unique = np.unique(src_a * max(n, 1) + dst_a)
        src_a, dst_a = unique // max(n, 1), unique % max(n, 1)
    out = _adjacency(src_a, dst_a)

    closed = np.asarray(closed, dtype=bool)
    blocked = np.zeros(n, dtype=bool)
    if len(src_a):
        blocked[dst_a[~closed[src_a]]] = True
    blocked &= ~closed

    order, rest = _topological(n, src_a, dst_a, out)
    cycles = _cycles(out, src_a, dst_a, rest)
    in_cycle = np.zeros(n, dtype=bool)
    for members in cycles:
        in_cycle[members] = True
    return DependencyGraph(
        n=n,
        src=src_a,
        dst=dst_a,
        closed=closed,
        blocked=blocked,
        in_cycle=in_cycle,
        cycles=cycles,
        dangling=dangling,
        _out=out,
        _order=order if not rest else [],
    )


def _adjacency(src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for u, v in zip(src.tolist(), dst.tolist(), strict=True):
        out.setdefault(u, []).append(v)
    return out


def _topological(
    n: int, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], out: dict[int, list[int]]
) -> tuple[list[int], set[int]]:
    """A topological order of the tickets with edges, and those left over (on or behind a cycle).

    Kahn's algorithm a level at a time on whole arrays: real graphs are a few dozen levels deep. A
    deep one (a long chain) switches to the plain one-node-at-a-time pass, linear at any depth.
    """
    if not len(src):
        return [], set()
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
            return _kahn(out)
        levels.append(frontier)
        counts = starts[frontier + 1] - starts[frontier]
        total = int(counts.sum())
        if not total:
            break
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        targets = by_source[np.repeat(starts[frontier], counts) + offsets]
        indegree -= np.bincount(targets, minlength=n)
        candidates = np.unique(targets)
        frontier = candidates[indegree[candidates] == 0]
    order: list[int] = np.concatenate(levels).tolist() if levels else []
    rest = set(np.nonzero(involved & (indegree > 0))[0].tolist())
    return order, rest


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
    out: dict[int, list[int]], src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], rest: set[int]
) -> list[list[int]]:
    """Members of every cycle: components of more than one ticket, and self-references.

    Kahn's pass has already removed everything acyclic; Tarjan runs only on what is left.
    """
    if not rest:
        return []
    loops = {int(u) for u in src[src == dst]}
    cycles = [sorted(c) for c in strongly_connected(out, sorted(rest)) if len(c) > 1 or c[0] in loops]
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
    closed = graph.closed.tolist()
    out_open: dict[int, list[int]] = {}
    for u, targets in graph._out.items():
        if closed[u]:
            continue
        kept = [v for v in targets if not closed[v]]
        if kept:
            out_open[u] = kept
    if not out_open:
        return [np.zeros(n, dtype=np.float64) for _ in weights], True
    if graph._order:
        # Acyclic (the usual case): Kahn's order from building the graph, children first.
        # Only tickets something waits on have a downstream set to build.
        components = [[u] for u in reversed(graph._order) if u in out_open]
    else:
        nodes = sorted(set(out_open) | {v for targets in out_open.values() for v in targets})
        components = strongly_connected(out_open, nodes)
    # Integer thousandths: sums are exact and order-free, so equal sets give equal sums and a
    # superset never sums lower (float sums in different orders can differ in the last bit).
    units = [np.rint(np.asarray(w, dtype=np.float64) * UNITS).astype(np.int64) for w in weights]
    totals = [np.zeros(n, dtype=np.int64) for _ in weights]
    exact = _exact_sums(out_open, components, units, totals)
    if not exact:
        totals = [np.zeros(n, dtype=np.int64) for _ in weights]
        _path_sums(out_open, components, [u.tolist() for u in units], totals)
    return [total / UNITS for total in totals], exact


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
