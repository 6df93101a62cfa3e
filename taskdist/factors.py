"""The five priority factors, each a vectorized function returning values in [0, 1] for every ticket.

Formulas, their reasons and a worked example are in docs/scoring.md; the words each factor's
`describe_*` companion prints in `taskdist explain` come from the same inputs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from taskdist.config import PriorityConfig
from taskdist.models import Agent

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FACTORS = ("urgency", "business_impact", "resource_efficiency", "revenue", "dependency")
DAY = 86400.0

# The priority label's business value; a ticket without a label is scored as medium.
LABEL_VALUE = {-1: 0.5, 0: 0.25, 1: 0.5, 2: 0.75, 3: 1.0}


# --- urgency ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Urgency:
    """Urgency per ticket and what it came from (slack is NaN without a due date)."""

    value: FloatArray
    deadline: FloatArray
    age_part: FloatArray
    slack_days: FloatArray
    remaining_hours: FloatArray
    age_days: FloatArray


def remaining_hours(estimate_hours: FloatArray, completion: FloatArray) -> FloatArray:
    """Work left: the estimate times the share not done yet."""
    return np.asarray(estimate_hours * (1.0 - completion), dtype=np.float64)


def urgency(
    due: FloatArray,
    created: FloatArray,
    remaining: FloatArray,
    now: float,
    cfg: PriorityConfig,
    hours_per_day: float,
) -> Urgency:
    """max(deadline step, age step): both only rise as `now` advances, and only at known moments.

    slack = days to due - remaining hours / hours_per_day. Slack <= 0 (overdue, or too little time
    left to finish) gives 1. Otherwise slack in (t[i-1], t[i]] of the thresholds gives 1 - t[i]/H
    (H the last threshold), and 0 beyond H. Age gives age_cap * (whole steps of age) * step / full
    days, at most age_cap; it also applies to tickets with a due date, which can only raise them.
    """
    bands = np.asarray(cfg.urgency_thresholds_days, dtype=np.float64)
    horizon = bands[-1]
    has_due = ~np.isnan(due)
    with np.errstate(invalid="ignore"):
        slack = np.where(has_due, (due - now) / DAY - remaining / hours_per_day, np.nan)
        band = np.searchsorted(bands, np.where(has_due, slack, np.inf), side="left")
        stepped = 1.0 - bands[np.minimum(band, len(bands) - 1)] / horizon
        deadline = np.where(~has_due, 0.0, np.where(slack <= 0, 1.0, np.where(band < len(bands), stepped, 0.0)))
        age = np.where(np.isnan(created), 0.0, np.maximum(0.0, (now - created) / DAY))
    steps = np.floor(age / cfg.age_step_days)
    age_part = np.minimum(cfg.age_cap, cfg.age_cap * steps * cfg.age_step_days / cfg.age_full_days)
    value = np.clip(np.maximum(deadline, age_part), 0.0, 1.0)
    return Urgency(value, deadline, age_part, slack, remaining, age)


def urgency_change_candidates(
    due: float, created: float, remaining: float, now: float, cfg: PriorityConfig, hours_per_day: float
) -> list[float]:
    """Moments (POSIX seconds, ascending, after `now`) at which one ticket's urgency may step up."""
    moments: list[float] = []
    if not math.isnan(due):
        slack = (due - now) / DAY - remaining / hours_per_day
        for edge in (0.0, *cfg.urgency_thresholds_days):
            if edge < slack:
                moments.append(now + (slack - edge) * DAY)
    if not math.isnan(created):
        age = max(0.0, (now - created) / DAY)
        full_steps = math.ceil(cfg.age_full_days / cfg.age_step_days)
        step = math.floor(age / cfg.age_step_days) + 1
        if step <= full_steps:
            moments.append(created + step * cfg.age_step_days * DAY)
    return sorted(m for m in moments if m > now)


# --- business impact ------------------------------------------------------------------------------

_LEVEL_WORDS = {
    1.0: "critical highest very_high top max maximum p0 urgent essential must_have blocker",
    0.75: "high major important p1 significant strong key",
    0.5: "medium normal moderate standard average p2 mid",
    0.25: "low minor p3 small nice_to_have weak",
    0.0: "none minimal trivial negligible p4 zero",
}
_TIER_WORDS = {
    1.0: "enterprise platinum strategic vip key tier_1 tier1 t1 1 top",
    2 / 3: "tier_2 tier2 t2 2 gold premium business mid_market midmarket growth",
    1 / 3: "tier_3 tier3 t3 3 silver standard smb team pro",
    0.0: "tier_4 tier4 t4 4 free basic bronze starter hobby trial",
}
_LEVELS = {w: v for v, words in _LEVEL_WORDS.items() for w in words.split()}
_TIERS = {w: v for v, words in _TIER_WORDS.items() for w in words.split()}
# (name shown, keys read in order, vocabulary)
BUSINESS_SIGNALS: tuple[tuple[str, tuple[str, ...], dict[str, float]], ...] = (
    ("client tier", ("client_tier", "customer_tier"), _TIERS),
    ("strategic importance", ("strategic_importance", "strategic"), _LEVELS),
    ("stakeholder priority", ("stakeholder_priority",), _LEVELS),
    ("impact", ("impact", "business_value"), _LEVELS),
)


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def signal_value(raw: Any, vocabulary: dict[str, float]) -> float | None:
    """A business signal's value in [0, 1] from a word, or a number on a 0-1, 1-5 or 1-10 scale."""
    text = _key(str(raw))
    if text in vocabulary:
        return vocabulary[text]
    if text in _LEVELS:
        return _LEVELS[text]
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    if number <= 1:
        return number
    return min(1.0, number / 5.0) if number <= 5 else min(1.0, number / 10.0)


def business_signals(business: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """(name, raw value, value or None when unreadable) for each business signal a ticket carries."""
    found = []
    for name, keys, vocabulary in BUSINESS_SIGNALS:
        for key in keys:
            if key in business and business[key] not in (None, ""):
                found.append((name, str(business[key]), signal_value(business[key], vocabulary)))
                break
    return found


def business_impact(
    levels: npt.NDArray[np.int8], business: Sequence[dict[str, Any]], cfg: PriorityConfig
) -> FloatArray:
    """(label_weight * label value + sum of signal values) / (label_weight + number of signals)."""
    label = np.select([levels == k for k in LABEL_VALUE], list(LABEL_VALUE.values()), default=0.5)
    total = np.zeros(len(levels), dtype=np.float64)
    count = np.zeros(len(levels), dtype=np.float64)
    cache: dict[int, tuple[float, int]] = {}
    for k, facts in enumerate(business):
        if not facts:
            continue
        cached = cache.get(id(facts))
        if cached is None:
            values = [v for _, _, v in business_signals(facts) if v is not None]
            cached = cache[id(facts)] = (float(sum(values)), len(values))
        total[k], count[k] = cached
    weight = cfg.label_weight
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(weight + count > 0, (weight * label + total) / (weight + count), label)
    return np.asarray(np.clip(value, 0.0, 1.0), dtype=np.float64)


# --- resource efficiency --------------------------------------------------------------------------


@dataclass(slots=True)
class Efficiency:
    """Per ticket: the factor, how many agents could do it, how many of those have room now."""

    value: FloatArray
    readiness: FloatArray
    capable: npt.NDArray[np.int64]
    free: npt.NDArray[np.int64]
    required: list[tuple[str, ...]]


def required_skills(
    skills: Sequence[tuple[str, ...]], explicit: BoolArray, vocabulary: set[str]
) -> list[tuple[str, ...]]:
    """Explicit skills always count; skills guessed from tags count only when some agent has them."""
    return _required(skills, explicit, vocabulary)[0]


def _required(
    skills: Sequence[tuple[str, ...]], explicit: BoolArray, vocabulary: set[str]
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], npt.NDArray[np.int64]]:
    """`required_skills`, the distinct skill sets in sorted order, and each ticket's position in them.

    Worked out once per distinct tag list (a backlog has a few hundred), not once per ticket.
    """
    position = dict.fromkeys(skills, 0)
    for k, names in enumerate(position):
        position[names] = k
    code = np.fromiter(map(position.__getitem__, skills), dtype=np.int64, count=len(skills))
    guessed = [tuple(sorted({s for s in names if s in vocabulary})) for names in position]
    required = list(map(guessed.__getitem__, code.tolist()))
    chosen = np.nonzero(explicit)[0].tolist()
    for k in chosen:
        required[k] = tuple(sorted(set(skills[k])))
    # Sorted: the same skill sets always land in the same rows of the coverage product.
    distinct = sorted({*guessed, *(required[k] for k in chosen)})
    row = {r: u for u, r in enumerate(distinct)}
    which = np.array([row[g] for g in guessed], dtype=np.int64)[code] if len(code) else code
    for k in chosen:
        which[k] = row[required[k]]
    return required, distinct, which


def agent_room(agents: Sequence[Agent], load_hours: FloatArray, load_tasks: npt.NDArray[np.int64]) -> FloatArray:
    """Each agent's free share: (capacity x availability - hours held) / (capacity x availability), 0 when
    its WIP limit is reached or it is away."""
    capacity = np.array([a.capacity_hours * a.availability for a in agents], dtype=np.float64)
    slots = np.array([a.max_tasks for a in agents], dtype=np.int64) - load_tasks
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(capacity > 0, np.maximum(0.0, capacity - load_hours) / capacity, 0.0)
    return np.asarray(np.where(slots > 0, share, 0.0), dtype=np.float64)


def coverage_matrix(required: Sequence[tuple[str, ...]], agents: Sequence[Agent]) -> FloatArray:
    """Skill coverage (mean proficiency over the required skills) of each skill set by each agent.

    A set needing no skill is covered fully by everyone; a skill no agent has counts as 0.
    """
    vocabulary = sorted({s for a in agents for s in a.skills})
    column = {s: k for k, s in enumerate(vocabulary)}
    proficiency = np.zeros((len(agents), len(vocabulary)), dtype=np.float64)
    for a, agent in enumerate(agents):
        for skill, level in agent.skills.items():
            proficiency[a, column[skill]] = level
    need = np.zeros((len(required), len(vocabulary)), dtype=np.float64)
    for u, names in enumerate(required):
        for name in names:
            if name in column:
                need[u, column[name]] = 1.0 / len(names)
    coverage = need @ proficiency.T
    empty = np.array([not names for names in required], dtype=bool)
    coverage[empty, :] = 1.0
    return np.asarray(coverage, dtype=np.float64)


def resource_efficiency(
    skills: Sequence[tuple[str, ...]],
    explicit: BoolArray,
    agents: Sequence[Agent],
    room: FloatArray,
    min_match: float,
    cfg: PriorityConfig,
) -> Efficiency:
    """1 - exp(-readiness / efficiency_scale), readiness = sum over capable agents of coverage x room.

    Capable: coverage >= min_match and availability > 0. Computed once per distinct skill set.
    """
    n = len(skills)
    vocabulary = {s for a in agents for s in a.skills}
    required, distinct, which = _required(skills, explicit, vocabulary)
    if not agents:
        zeros = np.zeros(n, dtype=np.float64)
        return Efficiency(zeros, zeros.copy(), np.zeros(n, np.int64), np.zeros(n, np.int64), required)
    coverage = coverage_matrix(distinct, agents)
    available = np.array([a.availability > 0 for a in agents], dtype=bool)
    capable = (coverage >= min_match - 1e-12) & available[None, :]
    readiness_u = np.where(capable, coverage * room[None, :], 0.0).sum(axis=1)
    capable_u = capable.sum(axis=1)
    free_u = (capable & (room[None, :] > 0)).sum(axis=1)
    readiness = readiness_u[which]
    value = 1.0 - np.exp(-readiness / cfg.efficiency_scale)
    return Efficiency(
        np.clip(value, 0.0, 1.0), readiness, capable_u[which].astype(np.int64), free_u[which].astype(np.int64), required
    )


# --- revenue -----------------------------------------------------------------------------------------


def money(business: dict[str, Any], cfg: PriorityConfig) -> float | None:
    """Net money at stake: revenue (x margin when a fraction, or the margin amount) + pipeline x
    pipeline_weight - cost; None when the ticket carries no money figure at all."""
    keys = ("revenue_potential", "revenue", "pipeline_value", "deal_value", "margin", "cost")
    if not any(isinstance(business.get(k), (int, float)) for k in keys):
        return None

    def first(*names: str) -> float:
        for name in names:
            value = business.get(name)
            if isinstance(value, (int, float)) and math.isfinite(value):
                return float(value)
        return 0.0

    gross = first("revenue_potential", "revenue")
    margin = business.get("margin")
    if isinstance(margin, (int, float)) and math.isfinite(margin):
        gross = gross * margin if margin <= 1 else float(margin)
    return gross + cfg.pipeline_weight * first("pipeline_value", "deal_value") - first("cost")


def revenue(
    business: Sequence[dict[str, Any]], population: BoolArray, cfg: PriorityConfig
) -> tuple[FloatArray, FloatArray]:
    """log(1 + net) / log(1 + largest net among `population`) for a positive net, else 0.

    Returns (values, net money with NaN where the ticket has no money figure).
    """
    n = len(business)
    net = np.full(n, np.nan, dtype=np.float64)
    cache: dict[int, float | None] = {}
    for k, facts in enumerate(business):
        if not facts:
            continue
        key = id(facts)
        if key not in cache:
            cache[key] = money(facts, cfg)
        found = cache[key]
        if found is not None:
            net[k] = found
    positive = np.where(np.isnan(net), 0.0, np.maximum(net, 0.0))
    top = float(positive[population].max()) if population.any() else 0.0
    if top <= 0:
        return np.zeros(n, dtype=np.float64), net
    with np.errstate(over="ignore"):  # a closed ticket's net far above the queue's: clipped to 1
        value = np.log1p(positive) / math.log1p(top)
    return np.clip(value, 0.0, 1.0), net


# --- dependency --------------------------------------------------------------------------------------


def dependency(downstream_hours: FloatArray, cfg: PriorityConfig) -> FloatArray:
    """1 - exp(-hours of open work waiting on the ticket / dependency_scale_hours)."""
    return np.clip(1.0 - np.exp(-downstream_hours / cfg.dependency_scale_hours), 0.0, 1.0)
