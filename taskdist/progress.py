"""Progress: completion rolled up task -> issue -> epic, a completion forecast, and delay risk.

Completion of a ticket (0..1): done is 1; else `completion_percentage` when the file gives it, else
checked boxes / all boxes, else 0. A container (any ticket other tickets name as `parent`) takes the
effort-weighted mean of its children instead, recursively, each child weighing its own estimate (a
leaf) or the sum of its children's weights (a container). Cancelled children weigh nothing. Parent
links that loop are cut where the loop closes, so the rollup always ends.

Forecast of an open work item (docs/status.md):
- Work left: estimate x max(1 - completion, min_remaining_share) hours.
- Its agent works through its open tickets one after another, started ones first, then by priority:
  hours to finish = the work left of everything ahead of it plus its own. An unassigned ticket waits
  in one team queue, in priority order, behind all work agents hold; the hours ahead of it are worked
  off at the whole team's pace (an approximation that ignores skills: who can take it is the
  assignment's business).
- The agent's speed: actual/estimated hours is lognormal, log-mean `mu` and log-spread `sigma`,
  learned from that agent's finished work and shrunk toward the prior (mu 0, `prior_sigma`) with
  `prior_weight` pseudo-outcomes (matching.prior_outcomes: the median is the speed `agents` shows).
  An unassigned ticket gets the prior at full availability.
- Calendar time: the agent works hours_per_day x availability on workdays_per_week days a week.
- Dependencies: a ticket cannot finish before its open prerequisites; its median finish is at least
  theirs plus its own duration (P90 likewise, which makes P90 conservative). A ticket in a dependency
  cycle, or held by an agent who is away, has no finish date (infinite).
- P50 and P90 are the 50% and 90% points; P(finish after due) follows from the same lognormal whose
  median and 90% point they are, and sets the band: low, medium, high, critical (configurable
  thresholds; an overdue open ticket is always critical).
A container's P50/P90 is the latest of its open descendants'; its risk is the highest probability
that one of them finishes after the container's own due date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from taskdist.config import ProgressConfig

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

Z90 = 1.2815515655446004  # the standard normal's 90% point
DAY = 86400.0
BANDS = ("low", "medium", "high", "critical")
MAX_PARENT_DEPTH = 64
RELAX_ROUNDS = 64


@dataclass(frozen=True, slots=True)
class Speed:
    """An agent's learned actual/estimated hours: lognormal log-mean and log-spread, from `samples` outcomes."""

    mu: float
    sigma: float
    samples: int

    @property
    def median_ratio(self) -> float:
        return math.exp(self.mu)


def learn_speed(pairs: Sequence[tuple[float, float]], prior_sigma: float, prior_weight: float) -> Speed:
    """Posterior-style shrinkage of log(actual/estimate) toward the prior (mu 0, sigma `prior_sigma`).

    With n outcomes x_i: mu = sum(x) / (n + w); sigma^2 = (sum((x - mean)^2) + w sigma0^2) / (n + w).
    Few outcomes move the figures a little, many move them to the agent's own record.
    """
    logs = [math.log(actual / estimate) for estimate, actual in pairs if estimate > 0 and actual > 0]
    n = len(logs)
    if n == 0:
        return Speed(0.0, prior_sigma, 0)
    mean = sum(logs) / n
    spread = sum((x - mean) ** 2 for x in logs)
    mu = sum(logs) / (n + prior_weight)
    sigma = math.sqrt((spread + prior_weight * prior_sigma**2) / (n + prior_weight))
    return Speed(mu, max(sigma, 1e-3), n)


@dataclass(slots=True)
class ProgressInput:
    """Row `k` of every column is ticket `k`. Times are POSIX seconds (NaN when absent).

    `completion` is the ticket's own share done, 0..1 (`own_completion`); done counts as 1 anyway.
    `agent` indexes `pace_hours`/`speeds` (-1: nobody). `rank_key`: higher is done earlier by its
    agent (the priority composite). `dep_src -> dep_dst` are prerequisite -> dependent edges;
    `stuck` marks tickets that cannot start until a person acts (dependency cycle members).
    """

    project: Sequence[str]
    id: Sequence[str]
    parent: Sequence[str | None]
    work_item: BoolArray
    status: Sequence[str] | npt.NDArray[np.str_]
    estimate_hours: FloatArray
    completion: FloatArray
    due: FloatArray
    agent: IntArray
    rank_key: FloatArray
    dep_src: IntArray
    dep_dst: IntArray
    stuck: BoolArray


@dataclass(slots=True)
class Progress:
    """The model's output, row `k` being ticket `k`; see the module docstring.

    `p50`/`p90` are POSIX seconds (inf: no finish date; NaN: closed or nothing to forecast);
    `p_late` is NaN without a due date; `level` is the band (see `risk_levels`).
    """

    own: FloatArray
    completion: FloatArray
    weight: FloatArray
    children: IntArray
    parent_index: IntArray
    remaining_hours: FloatArray
    p50: FloatArray
    p90: FloatArray
    p_late: FloatArray
    level: npt.NDArray[np.int8]
    is_open: BoolArray

    def band_at(self, k: int) -> str:
        """The delay-risk band of ticket `k`: low .. critical, 'none' without a due date, '' closed."""
        return LEVEL_NAMES[int(self.level[k])]

    @property
    def band(self) -> list[str]:
        return [LEVEL_NAMES[int(v)] for v in self.level]


def own_completion(status: Sequence[str], pct: FloatArray, done: IntArray, total: IntArray) -> FloatArray:
    """Done: 1; else completion_percentage / 100; else checked / all boxes; else 0 (each clipped to 0..1)."""
    pct = np.asarray(pct, dtype=np.float64)
    done_f = np.asarray(done, dtype=np.float64)
    total_f = np.asarray(total, dtype=np.float64)
    boxes = np.divide(done_f, total_f, out=np.zeros_like(done_f), where=total_f > 0)
    value = np.where(np.isnan(pct), boxes, pct / 100.0)
    value = np.clip(np.nan_to_num(value, nan=0.0), 0.0, 1.0)
    finished = np.array([s == "done" for s in status], dtype=bool)
    return np.asarray(np.where(finished, 1.0, value), dtype=np.float64)


def resolve_parents(project: Sequence[str], ids: Sequence[str], parent: Sequence[str | None]) -> IntArray:
    """Row index of each ticket's parent in its own project (exact id, else unique case-insensitive); -1 none.

    Links that would close a loop are cut (the ticket keeps no parent), so walking up always ends.
    """
    n = len(ids)
    # Plain string keys (their hash is cached) are several times faster to look up than tuples.
    if len(set(project)) <= 1:
        table = dict(zip(ids, range(n), strict=True))
        found = [table.get(ref, -1) if ref else -1 for ref in parent]
    else:
        tables: dict[str, dict[str, int]] = {}
        for k, (name, ticket) in enumerate(zip(project, ids, strict=True)):
            tables.setdefault(name, {})[ticket] = k
        found = [tables[name].get(ref, -1) if ref else -1 for name, ref in zip(project, parent, strict=True)]
    index = np.array(found, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    misses = [k for k, (ref, row) in enumerate(zip(parent, found, strict=True)) if ref and row < 0]
    if misses:
        folded: dict[tuple[str, str], int] = {}
        clashes: set[tuple[str, str]] = set()
        for k in range(n):
            key = (project[k], ids[k].lower())
            if key in folded:
                clashes.add(key)
            folded[key] = k
        for k in misses:
            key = (project[k], str(parent[k]).lower())
            if key not in clashes:
                index[k] = folded.get(key, -1)
    index[index == np.arange(n)] = -1
    return cut_parent_loops(index)


def cut_parent_loops(index: IntArray) -> IntArray:
    """Remove one link of every parent loop (the member with the smallest row), in place."""
    cursor = index.copy()
    for _ in range(MAX_PARENT_DEPTH):
        alive = cursor >= 0
        if not alive.any():
            return index
        cursor[alive] = index[cursor[alive]]
    # Still climbing after MAX_PARENT_DEPTH steps: on or under a loop, or on a very deep chain.
    for k in np.nonzero(cursor >= 0)[0].tolist():
        seen: list[int] = []
        node = k
        while node >= 0 and node not in seen:
            seen.append(node)
            node = int(index[node])
        if node >= 0:
            loop = seen[seen.index(node) :]
            index[min(loop)] = -1
    return index


def _depths(parent_index: IntArray) -> IntArray:
    depth = np.zeros(len(parent_index), dtype=np.int64)
    cursor = parent_index.copy()
    for _ in range(MAX_PARENT_DEPTH):
        alive = cursor >= 0
        if not alive.any():
            break
        depth[alive] += 1
        cursor[alive] = parent_index[cursor[alive]]
    return depth


def rollup(
    parent_index: IntArray, own: FloatArray, estimate: FloatArray, cancelled: BoolArray, finished: BoolArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Effort-weighted completion up the parent tree: (completion, weight hours, counted children)."""
    n = len(own)
    depth = _depths(parent_index)
    weight = np.where(cancelled, 0.0, np.maximum(estimate, 0.0)).astype(np.float64)
    completion = own.copy()
    child_weight = np.zeros(n, dtype=np.float64)
    child_done = np.zeros(n, dtype=np.float64)
    children = np.zeros(n, dtype=np.int64)
    has_parent = parent_index >= 0
    for level in range(int(depth.max()) if n else 0, 0, -1):
        rows = np.nonzero((depth == level) & has_parent)[0]
        if len(rows) == 0:
            continue
        parents = parent_index[rows]
        counted = ~cancelled[rows]
        np.add.at(child_weight, parents, np.where(counted, weight[rows], 0.0))
        np.add.at(child_done, parents, np.where(counted, weight[rows] * completion[rows], 0.0))
        np.add.at(children, parents, counted.astype(np.int64))
        targets = np.unique(parents)
        # A container's weight is its children's; its completion their weighted mean (done stays done).
        with_kids = targets[children[targets] > 0]
        weighted = with_kids[child_weight[with_kids] > 0]
        completion[weighted] = child_done[weighted] / child_weight[weighted]
        unweighted = with_kids[child_weight[with_kids] <= 0]
        completion[unweighted] = own[unweighted]
        weight[with_kids] = np.where(cancelled[with_kids], 0.0, child_weight[with_kids])
        completion[with_kids] = np.where(finished[with_kids], 1.0, completion[with_kids])
    return np.clip(completion, 0.0, 1.0), weight, children


def _normal_sf(x: FloatArray) -> FloatArray:
    """P(Z > x) for the standard normal (math.erfc, vectorised; avoids importing scipy.special)."""
    erfc = np.frompyfunc(math.erfc, 1, 1)
    return np.asarray(0.5 * erfc(x / math.sqrt(2.0)), dtype=np.float64)


CLOSED_LEVEL, NO_DUE_LEVEL = -2, -1
LEVEL_NAMES = {CLOSED_LEVEL: "", NO_DUE_LEVEL: "none", **dict(enumerate(BANDS))}


def risk_levels(
    p_late: FloatArray, due: FloatArray, now: float, closed: BoolArray, cfg: ProgressConfig
) -> npt.NDArray[np.int8]:
    """The delay-risk band of every ticket as a level: 0 low, 1 medium, 2 high, 3 critical (from the
    configured thresholds on P(finish after due); overdue is critical), -1 without a due date, -2 closed."""
    overdue = ~np.isnan(due) & (due <= now)
    risk = np.nan_to_num(p_late, nan=0.0)
    level = np.select(
        [overdue | (risk >= cfg.critical_risk), risk >= cfg.high_risk, risk >= cfg.medium_risk], [3, 2, 1], 0
    )
    level = np.where(np.isnan(due), NO_DUE_LEVEL, level)
    return np.asarray(np.where(closed, CLOSED_LEVEL, level), dtype=np.int8)


def bands(p_late: FloatArray, due: FloatArray, now: float, closed: BoolArray, cfg: ProgressConfig) -> list[str]:
    """`risk_levels` as names: '' when closed, 'none' without a due date."""
    return [LEVEL_NAMES[int(v)] for v in risk_levels(p_late, due, now, closed, cfg)]


def forecast(
    data: ProgressInput,
    pace_hours: FloatArray,
    speeds: Sequence[Speed],
    prior: Speed,
    default_hours_per_day: float,
    cfg: ProgressConfig,
    now: float,
) -> Progress:
    """Rollup, P50/P90 finish and delay risk for every ticket (see the module docstring)."""
    n = len(data.id)
    status = np.asarray(data.status)
    cancelled = status == "cancelled"
    finished = status == "done"
    closed = cancelled | finished
    started = (status == "in_progress") | (status == "review")
    own = np.where(finished, 1.0, np.clip(data.completion, 0.0, 1.0))
    parent_index = resolve_parents(data.project, data.id, data.parent)
    completion, weight, children = rollup(parent_index, own, data.estimate_hours, cancelled, finished)

    is_open = data.work_item & ~closed
    left = np.maximum(1.0 - own, cfg.min_remaining_share)
    remaining = np.where(is_open, np.maximum(data.estimate_hours, 0.0) * left, 0.0)

    # Per-ticket pace: working hours per calendar day and the lognormal of actual/estimate.
    agent = np.asarray(data.agent, dtype=np.int64)
    assigned = is_open & (agent >= 0)
    mus = np.array([s.mu for s in speeds] + [prior.mu], dtype=np.float64)
    sigmas = np.array([s.sigma for s in speeds] + [prior.sigma], dtype=np.float64)
    week = cfg.workdays_per_week / 7.0
    hours = np.append(np.asarray(pace_hours, dtype=np.float64), default_hours_per_day) * week
    slot = np.where(assigned, agent, len(speeds))
    mu, sigma, per_day = mus[slot], sigmas[slot], hours[slot]

    # Hours to finish through the agent's own queue: started first, then by priority, then due, then row.
    queue_hours = remaining.copy()
    rows = np.nonzero(assigned)[0]
    if len(rows):
        due_key = np.where(np.isnan(data.due[rows]), np.inf, data.due[rows])
        order = rows[np.lexsort((rows, due_key, -data.rank_key[rows], ~started[rows], agent[rows]))]
        total = np.cumsum(remaining[order])
        groups = agent[order]
        first = np.r_[True, groups[1:] != groups[:-1]]
        offsets = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        before = np.r_[0.0, total][offsets]
        queue_hours[order] = total - before

    # Unassigned work waits in one team queue, in priority order, behind everything agents hold: the
    # hours ahead are spread over the whole team's pace (expressed at the default pace).
    loose = np.nonzero(is_open & (agent < 0) & ~data.stuck)[0]
    if len(loose):
        team = float(hours[:-1].sum()) if len(speeds) else float(hours[-1])
        held = float(remaining[assigned].sum())
        due_key = np.where(np.isnan(data.due[loose]), np.inf, data.due[loose])
        order = loose[np.lexsort((loose, due_key, -data.rank_key[loose]))]
        ahead = held + np.cumsum(remaining[order]) - remaining[order]
        with np.errstate(invalid="ignore", over="ignore"):
            # A team pace near zero overflows to inf: that work does not finish, as with no team.
            share = hours[-1] / team if team > 0 else np.inf
            queue_hours[order] = np.where(ahead > 0, ahead * share, 0.0) + remaining[order]

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        to_days = np.where(per_day > 0, 1.0 / per_day, np.inf)
        own50 = np.where(remaining > 0, remaining * np.exp(mu) * to_days, 0.0)
        own90 = np.where(remaining > 0, remaining * np.exp(mu + Z90 * sigma) * to_days, 0.0)
        finish50 = np.where(queue_hours > 0, queue_hours * np.exp(mu) * to_days, 0.0)
        finish90 = np.where(queue_hours > 0, queue_hours * np.exp(mu + Z90 * sigma) * to_days, 0.0)
    finish50 = np.where(is_open & data.stuck, np.inf, finish50)
    finish90 = np.where(is_open & data.stuck, np.inf, finish90)
    finish50, finish90 = _after_prerequisites(data.dep_src, data.dep_dst, is_open, finish50, finish90, own50, own90)

    due_days = (data.due - now) / DAY
    has_due = ~np.isnan(data.due)
    p_late = np.full(n, np.nan)
    target = is_open & has_due
    p_late[target] = late_probability(finish50[target], finish90[target], due_days[target])
    with np.errstate(over="ignore"):  # a finish too far out to date overflows to inf: never
        p50 = np.where(is_open, now + finish50 * DAY, np.nan)
        p90 = np.where(is_open, now + finish90 * DAY, np.nan)

    _containers(parent_index, is_open, finish50, finish90, p50, p90, p_late, data.due, now, closed)
    level = risk_levels(p_late, data.due, now, closed, cfg)
    return Progress(
        own=own,
        completion=completion,
        weight=weight,
        children=children,
        parent_index=parent_index,
        remaining_hours=remaining,
        p50=p50,
        p90=p90,
        p_late=p_late,
        level=level,
        is_open=is_open | (~closed & (children > 0)),
    )


def late_probability(finish50: FloatArray, finish90: FloatArray, due_days: FloatArray) -> FloatArray:
    """P(finish > due) under the lognormal with median finish50 and 90% point finish90 (days from now)."""
    result = np.ones(len(due_days), dtype=np.float64)
    never = np.isinf(finish50)
    instant = finish50 <= 0
    regular = ~never & ~instant & (due_days > 0)
    result[instant & (due_days > 0)] = 0.0
    if regular.any():
        f50, f90, d = finish50[regular], finish90[regular], due_days[regular]
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = np.log(np.where(np.isfinite(f90), f90, f50 * 1e6) / f50) / Z90
        spread = np.maximum(spread, 1e-6)
        with np.errstate(over="ignore", divide="ignore"):
            result[regular] = _normal_sf(np.log(d / f50) / spread)
    return result


def _after_prerequisites(
    src: IntArray,
    dst: IntArray,
    is_open: BoolArray,
    finish50: FloatArray,
    finish90: FloatArray,
    own50: FloatArray,
    own90: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """finish[k] = max(finish[k], finish[prerequisite] + own[k]) in dependency order (Kahn, linear)."""
    if len(src) == 0:
        return finish50, finish90
    keep = is_open[src] & is_open[dst] & (src != dst)
    s, d = src[keep], dst[keep]
    if len(s) == 0:
        return finish50, finish90
    # Level by level on whole arrays: after round r every path of r edges is accounted for. Real
    # backlogs are shallow; a deep chain falls back to one linear pass in topological order.
    f50, f90 = finish50.copy(), finish90.copy()
    for _ in range(RELAX_ROUNDS):
        before50, before90 = f50.copy(), f90.copy()
        np.maximum.at(f50, d, f50[s] + own50[d])
        np.maximum.at(f90, d, f90[s] + own90[d])
        if np.array_equal(f50, before50) and np.array_equal(f90, before90):
            return f50, f90
    return _kahn_longest(s.tolist(), d.tolist(), finish50, finish90, own50, own90)


def _kahn_longest(
    s: list[int], d: list[int], finish50: FloatArray, finish90: FloatArray, own50: FloatArray, own90: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The same longest-path bound in one pass over a topological order (Kahn); linear in edges."""
    out: dict[int, list[int]] = {}
    indegree: dict[int, int] = {}
    for a, b in zip(s, d, strict=True):
        out.setdefault(a, []).append(b)
        indegree[b] = indegree.get(b, 0) + 1
    f50, f90 = finish50.tolist(), finish90.tolist()
    o50, o90 = own50.tolist(), own90.tolist()
    stack = [a for a in out if indegree.get(a, 0) == 0]
    while stack:
        a = stack.pop()
        for b in out.get(a, ()):
            f50[b] = max(f50[b], f50[a] + o50[b])
            f90[b] = max(f90[b], f90[a] + o90[b])
            indegree[b] -= 1
            if indegree[b] == 0:
                stack.append(b)
    # What is left with indegree > 0 sits on or behind a cycle: it can never start on its own.
    for b, count in indegree.items():
        if count > 0:
            f50[b] = f90[b] = math.inf
    return np.array(f50, dtype=np.float64), np.array(f90, dtype=np.float64)


def _containers(
    parent_index: IntArray,
    is_open: BoolArray,
    finish50: FloatArray,
    finish90: FloatArray,
    p50: FloatArray,
    p90: FloatArray,
    p_late: FloatArray,
    due: FloatArray,
    now: float,
    closed: BoolArray,
) -> None:
    """Each open container: latest P50/P90 of its open descendants; risk against its own due date."""
    leaves = np.nonzero(is_open)[0]
    if len(leaves) == 0:
        return
    latest50 = np.full(len(p50), -np.inf)
    latest90 = np.full(len(p90), -np.inf)
    risk = np.full(len(p50), -1.0)
    ancestor = parent_index[leaves]
    for _ in range(MAX_PARENT_DEPTH):
        alive = ancestor >= 0
        if not alive.any():
            break
        rows, up = leaves[alive], ancestor[alive]
        np.maximum.at(latest50, up, finish50[rows])
        np.maximum.at(latest90, up, finish90[rows])
        dated = ~np.isnan(due[up])
        if dated.any():
            chance = late_probability(finish50[rows[dated]], finish90[rows[dated]], (due[up[dated]] - now) / DAY)
            np.maximum.at(risk, up[dated], chance)
        ancestor[alive] = parent_index[up]
    containers = np.nonzero((latest50 > -np.inf) & ~closed)[0]
    # A container that is itself open work (an issue with tasks) finishes after itself and its children.
    mine50 = np.where(is_open[containers], p50[containers], -np.inf)
    mine90 = np.where(is_open[containers], p90[containers], -np.inf)
    with np.errstate(over="ignore"):  # as for the tickets: too far out is inf
        p50[containers] = np.maximum(mine50, now + latest50[containers] * DAY)
        p90[containers] = np.maximum(mine90, now + latest90[containers] * DAY)
    rated = containers[risk[containers] >= 0]
    p_late[rated] = np.fmax(p_late[rated], risk[rated])


def risk_counts(level: npt.NDArray[np.int8]) -> Mapping[str, int]:
    """How many tickets fall in each band (and without a due date); closed ones are not counted."""
    counts = np.bincount(level[level >= NO_DUE_LEVEL].astype(np.int64) + 1, minlength=5)
    return {"none": int(counts[0]), **{name: int(counts[k + 1]) for k, name in enumerate(BANDS)}}
