"""The dependency graph: blocked vs ready, downstream sets and sums, cycles, dangling references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist import graph as graph_module
from taskdist.graph import DependencyGraph, build_graph


def make(
    deps: dict[str, list[str]],
    closed: frozenset[str] = frozenset(),
    blocks: dict[str, list[str]] | None = None,
    ids: list[str] | None = None,
    project: str = "p",
) -> tuple[DependencyGraph, list[str]]:
    names = sorted(ids or set(deps) | {d for ds in deps.values() for d in ds if not d.startswith("?")})
    blocks = blocks or {}
    graph = build_graph(
        [project] * len(names),
        names,
        [tuple(deps.get(n, ())) for n in names],
        [tuple(blocks.get(n, ())) for n in names],
        np.array([n in closed for n in names], dtype=bool),
    )
    return graph, names


def labels(names: list[str], rows: list[int]) -> list[str]:
    return [names[k] for k in rows]


def test_chain_blocks_and_downstream() -> None:
    g, names = make({"B": ["A"], "C": ["B"]})
    a, b, c = (names.index(x) for x in "ABC")
    assert g.blocked.tolist() == [False, True, True]
    assert labels(names, g.open_dependencies(c)) == ["B"]
    assert labels(names, g.downstream(a)) == ["B", "C"]
    (hours, count), exact = g.downstream_totals([np.array([1.0, 2.0, 4.0]), np.ones(3)])
    assert exact
    assert hours.tolist() == [6.0, 4.0, 0.0]
    assert count.tolist() == [2.0, 1.0, 0.0]
    assert g.cycles == [] and g.dangling == {}
    assert labels(names, g.dependents(a)) == ["B"] and labels(names, g.dependencies(b)) == ["A"]


def test_closed_prerequisite_does_not_block_and_breaks_the_downstream_chain() -> None:
    g, names = make({"B": ["A"], "C": ["B"]}, closed=frozenset({"B"}))
    assert g.blocked.tolist() == [False, False, False]
    # B is done: C no longer waits through it, so A unblocks nothing.
    assert g.downstream(names.index("A")) == []
    (count,), _ = g.downstream_totals([np.ones(3)])
    assert count.tolist() == [0.0, 0.0, 0.0]


def test_blocks_is_the_reverse_of_depends_on_and_counts_once() -> None:
    g, names = make({"B": ["A"]}, blocks={"A": ["B", "C"]}, ids=["A", "B", "C"])
    assert g.blocked.tolist() == [False, True, True]
    assert len(g.src) == 2  # A->B stated twice, kept once
    assert labels(names, g.downstream(0)) == ["B", "C"]


def test_dangling_reference_is_reported_and_does_not_block() -> None:
    g, names = make({"B": ["A", "?GONE-1"]}, ids=["A", "B"])
    b = names.index("B")
    assert g.dangling == {b: ["?GONE-1"]}
    assert labels(names, g.open_dependencies(b)) == ["A"]
    g2, _ = make({"B": ["?GONE-1"]}, ids=["B"])
    assert not g2.blocked[0]


def test_references_resolve_case_insensitively_inside_the_project_only() -> None:
    g = build_graph(
        ["p", "p", "q"],
        ["ISS-1", "TSK-1", "ISS-2"],
        [(), ("iss-1", "ISS-2"), ()],
        [(), (), ()],
        np.zeros(3, dtype=bool),
    )
    assert g.open_dependencies(1) == [0]
    assert g.dangling == {1: ["ISS-2"]}  # ISS-2 lives in project q


def test_ids_equal_but_for_case_are_ambiguous_hence_dangling() -> None:
    g = build_graph(["p"] * 3, ["A-1", "a-1", "B-1"], [(), (), ("A-1", "x-1")], [(), (), ()], np.zeros(3, dtype=bool))
    assert g.open_dependencies(2) == [0]
    assert g.dangling == {2: ["x-1"]}
    g2 = build_graph(["p"] * 3, ["A-1", "a-1", "B-1"], [(), (), ("A-1",)], [(), (), ()], np.zeros(3, dtype=bool))
    g3 = build_graph(["p"] * 3, ["A-1", "a-1", "B-1"], [(), (), ("A-1", "Z-1")], [(), (), ()], np.zeros(3, dtype=bool))
    assert g2.dangling == {} and g3.dangling == {2: ["Z-1"]}


def test_cycle_members_are_reported_blocked_and_nothing_loops() -> None:
    g, names = make({"A": ["C"], "B": ["A"], "C": ["B"], "D": ["C"], "E": []})
    assert [labels(names, c) for c in g.cycles] == [["A", "B", "C"]]
    assert g.in_cycle.tolist() == [True, True, True, False, False]
    assert g.blocked.tolist() == [True, True, True, True, False]
    a = names.index("A")
    assert labels(names, g.downstream(a)) == ["B", "C", "D"]  # not itself
    (count,), exact = g.downstream_totals([np.ones(5)])
    assert exact
    assert count.tolist() == [3.0, 3.0, 3.0, 0.0, 0.0]


def test_self_reference_is_a_cycle_of_one() -> None:
    g = build_graph(["p", "p"], ["A", "B"], [("a",), ()], [(), ()], np.zeros(2, dtype=bool))
    assert g.cycles == [[0]]
    assert g.blocked.tolist() == [True, False]
    assert g.downstream(0) == []
    (count,), _ = g.downstream_totals([np.ones(2)])
    assert count.tolist() == [0.0, 0.0]


def test_two_cycles_joined_by_a_path() -> None:
    g, names = make({"A": ["B"], "B": ["A"], "C": ["B"], "D": ["C", "E"], "E": ["D"]})
    assert [labels(names, c) for c in g.cycles] == [["A", "B"], ["D", "E"]]
    assert not g.in_cycle[names.index("C")]


def test_empty_graph() -> None:
    g = build_graph([], [], [], [], np.zeros(0, dtype=bool))
    assert g.cycles == [] and g.blocked.tolist() == []
    (w,), exact = g.downstream_totals([np.zeros(0)])
    assert exact and w.tolist() == []


# --- properties against a brute-force reference ------------------------------------------------------

graphs = st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


def _reference(n: int, edges: list[tuple[int, int]], closed: list[bool]) -> tuple[list[set[int]], list[set[int]]]:
    """Brute force: reach over open tickets (downstream) and reach over all edges (for cycles)."""
    out_all: list[set[int]] = [set() for _ in range(n)]
    for u, v in edges:
        out_all[u].add(v)

    def reach(start: int, open_only: bool) -> set[int]:
        seen: set[int] = set()
        stack = [start]
        while stack:
            u = stack.pop()
            for v in out_all[u]:
                if open_only and (closed[u] or closed[v]):
                    continue
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        return seen

    return [reach(k, True) - {k} if not closed[k] else set() for k in range(n)], [reach(k, False) for k in range(n)]


def _build(n: int, edges: list[tuple[int, int]], closed: list[bool]) -> DependencyGraph:
    ids = [f"T-{k}" for k in range(n)]
    deps: list[list[str]] = [[] for _ in range(n)]
    for u, v in edges:
        deps[v].append(ids[u])
    return build_graph(["p"] * n, ids, [tuple(d) for d in deps], [()] * n, np.array(closed, dtype=bool))


@settings(max_examples=200, deadline=None)
@given(graphs, st.lists(st.floats(0, 100), min_size=9, max_size=9))
def test_graph_matches_brute_force(case: tuple[int, list[tuple[int, int]], list[bool]], raw: list[float]) -> None:
    n, edges, closed = case
    g = _build(n, edges, closed)
    down, every = _reference(n, edges, closed)
    weights = np.array(raw[:n])
    (sums, counts), exact = g.downstream_totals([weights, np.ones(n)])
    assert exact
    for k in range(n):
        assert g.downstream(k) == sorted(down[k])
        assert counts[k] == len(down[k])
        assert sums[k] == pytest.approx(sum(round(weights[j] * 1000) for j in down[k]) / 1000, abs=1e-9)
        in_cycle = k in every[k]
        assert bool(g.in_cycle[k]) == in_cycle
        deps = {u for u, v in edges if v == k}
        assert bool(g.blocked[k]) == (not closed[k] and any(not closed[u] for u in deps))
    members = sorted(k for c in g.cycles for k in c)
    assert members == sorted(set(members))  # each ticket in at most one cycle
    for cycle in g.cycles:
        for a in cycle:
            assert all(b in every[a] for b in cycle)


@settings(max_examples=100, deadline=None)
@given(graphs)
def test_superset_of_dependents_never_sums_lower(case: tuple[int, list[tuple[int, int]], list[bool]]) -> None:
    n, edges, closed = case
    g = _build(n, edges, closed)
    (hours,), _ = g.downstream_totals([np.full(n, 3.0)])
    sets = [set(g.downstream(k)) for k in range(n)]
    for a in range(n):
        for b in range(n):
            if sets[a] >= sets[b]:
                assert hours[a] >= hours[b]


def test_over_budget_falls_back_to_path_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    # A diamond: D is reachable from A twice; the fallback counts it per path.
    g, names = make({"B": ["A"], "C": ["A"], "D": ["B", "C"]})
    monkeypatch.setattr(graph_module, "EXACT_BUDGET", 1)
    (count,), exact = g.downstream_totals([np.ones(4)])
    assert not exact
    assert count[names.index("A")] == 4.0  # B, C, and D twice
    monkeypatch.setattr(graph_module, "EXACT_BUDGET", 10**6)
    (count,), exact = g.downstream_totals([np.ones(4)])
    assert exact and count[names.index("A")] == 3.0


@pytest.mark.parametrize("n", [1000, 3000])
def test_long_chain_sums_stay_right_past_the_budget(n: int) -> None:
    # 3000 tickets in one chain hold 4.5 M (ticket, dependent) pairs: past the exact budget the
    # path sums take over, and on a chain they are exact too.
    ids = [f"T-{k}" for k in range(n)]
    deps: list[tuple[str, ...]] = [()] + [(ids[k - 1],) for k in range(1, n)]
    g = build_graph(["p"] * n, ids, deps, [()] * n, np.zeros(n, dtype=bool))
    (count,), exact = g.downstream_totals([np.ones(n)])
    assert exact == (n * (n - 1) / 2 <= graph_module.EXACT_BUDGET)
    assert count.tolist() == [float(n - 1 - k) for k in range(n)]
    assert g.blocked.sum() == n - 1


def test_deep_graph_with_a_cycle_at_the_end() -> None:
    # Deeper than the level-by-level pass goes: the node-by-node pass must find the same cycle.
    n = graph_module.MAX_ARRAY_LEVELS + 50
    ids = [f"T-{k}" for k in range(n)]
    deps: list[tuple[str, ...]] = [()] + [(ids[k - 1],) for k in range(1, n)]
    deps[n - 3] = (ids[n - 4], ids[n - 1])  # T-(n-3) also waits for the last one: a loop of three
    g = build_graph(["p"] * n, ids, deps, [()] * n, np.zeros(n, dtype=bool))
    assert g.cycles == [[n - 3, n - 2, n - 1]]
    assert g.blocked.sum() == n - 1
