"""Capability matching: how well each agent suits each ticket, in [0, 1], and who is eligible at all.

compatibility = sum_p w_p x part_p / sum_p w_p over five parts (weights in `matching:`):

- skill: mean proficiency over the ticket's required skills (explicit skills always count; skills
  guessed from tags only when some roster agent has them, so `migration` is not a skill); a ticket
  needing no named skill matches everyone fully. The same coverage the priority engine uses.
- experience: 1 - exp(-E / experience_scale), E = mean over the required skills of the agent's done
  tickets that needed that skill (all its done tickets for a ticket needing no skill).
- performance: learned success rate and speed (`learning.py`); a new agent gets the priors' value.
- availability: the roster's 0..1.
- load: 1 - utilization of what the agent holds now, utilization = max(hours held / (capacity x
  availability), tickets held / max_tasks), clipped to [0, 1].

Eligible: skill match >= min_match, availability > 0, and room for the ticket: a free task slot
(max_tasks minus tickets held) and the ticket's remaining hours within capacity x availability minus
the hours held. Everything is computed once per distinct required-skill set (a few hundred even for
100,000 tickets) as (sets x agents) matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from taskdist.config import MatchingConfig
from taskdist.learning import Learned, neutral
from taskdist.models import Agent

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PARTS = ("skill", "experience", "performance", "availability", "load")
EPS = 1e-9


@dataclass(slots=True)
class AgentState:
    """Per agent, in roster order: its learned figures, the work it holds, the room it has left."""

    agents: list[Agent]
    learned: list[Learned]
    held_hours: FloatArray
    held_tasks: IntArray
    capacity: FloatArray  # capacity_hours x availability
    room_hours: FloatArray
    room_tasks: IntArray
    available: BoolArray
    performance: FloatArray
    availability: FloatArray
    load: FloatArray

    def __len__(self) -> int:
        return len(self.agents)


def agent_state(
    agents: Sequence[Agent],
    learned: dict[str, Learned],
    held_hours: FloatArray,
    held_tasks: IntArray,
    cfg: MatchingConfig,
) -> AgentState:
    """The per-agent vectors matching and assignment read."""
    agents = list(agents)
    figures = [learned.get(a.id) or neutral(cfg) for a in agents]
    capacity = np.array([a.capacity_hours * a.availability for a in agents], dtype=np.float64)
    max_tasks = np.array([a.max_tasks for a in agents], dtype=np.int64)
    availability = np.array([a.availability for a in agents], dtype=np.float64)
    held_hours = np.asarray(held_hours, dtype=np.float64)
    held_tasks = np.asarray(held_tasks, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_hours = np.where(capacity > 0, held_hours / np.where(capacity > 0, capacity, 1.0), 1.0)
        by_tasks = np.where(max_tasks > 0, held_tasks / np.maximum(max_tasks, 1), 1.0)
    utilization = np.clip(np.maximum(by_hours, by_tasks), 0.0, 1.0)
    available = availability > 0
    return AgentState(
        agents=agents,
        learned=figures,
        held_hours=held_hours,
        held_tasks=held_tasks,
        capacity=capacity,
        room_hours=np.where(available, np.maximum(0.0, capacity - held_hours), 0.0),
        room_tasks=np.where(available, np.maximum(0, max_tasks - held_tasks), 0).astype(np.int64),
        available=available,
        performance=np.array([f.performance for f in figures], dtype=np.float64),
        availability=availability,
        load=1.0 - utilization,
    )


@dataclass(slots=True)
class Compatibility:
    """Compatibility of every distinct required-skill set (row) with every agent (column)."""

    required: list[tuple[str, ...]]
    skill: FloatArray
    experience: FloatArray
    state: AgentState
    weights: FloatArray  # the five part weights, scaled to sum to 1
    min_match: float
    total: FloatArray  # the compatibility: sum of weight x part
    capable: BoolArray  # skill match reaches min_match and the agent is available (room not considered)

    def parts(self, u: int, a: int) -> dict[str, float]:
        s = self.state
        values = (self.skill[u, a], self.experience[u, a], s.performance[a], s.availability[a], s.load[a])
        return {name: float(v) for name, v in zip(PARTS, values, strict=True)}


def part_weights(cfg: MatchingConfig) -> FloatArray:
    raw = np.array([cfg.skill, cfg.experience, cfg.performance, cfg.availability, cfg.load], dtype=np.float64)
    return np.asarray(raw / raw.sum(), dtype=np.float64)


def compatibility(required: Sequence[tuple[str, ...]], state: AgentState, cfg: MatchingConfig) -> Compatibility:
    """Compatibility of each skill set in `required` (distinct sets, as `distinct_sets` gives) with each agent."""
    from taskdist.factors import coverage_matrix

    agents = state.agents
    required = list(required)
    if agents and required:
        skill = coverage_matrix(required, agents)
    else:
        skill = np.zeros((len(required), len(agents)), dtype=np.float64)
    experience = experience_matrix(required, state, cfg.experience_scale)
    w = part_weights(cfg)
    per_agent = w[2] * state.performance + w[3] * state.availability + w[4] * state.load
    total = np.asarray(w[0] * skill + w[1] * experience + per_agent[None, :], dtype=np.float64)
    capable = np.asarray((skill >= cfg.min_match - 1e-12) & state.available[None, :], dtype=bool)
    return Compatibility(required, skill, experience, state, w, cfg.min_match, total, capable)


def experience_matrix(required: Sequence[tuple[str, ...]], state: AgentState, scale: float = 3.0) -> FloatArray:
    """1 - exp(-E / scale), E = mean over a set's skills of each agent's done tickets needing that skill."""
    vocabulary = sorted({s for f in state.learned for s in f.skills} | {s for r in required for s in r})
    column = {s: k for k, s in enumerate(vocabulary)}
    counts = np.zeros((len(state), len(vocabulary)), dtype=np.float64)
    done = np.array([f.done for f in state.learned], dtype=np.float64)
    for a, figures in enumerate(state.learned):
        for skill, count in figures.skills.items():
            counts[a, column[skill]] = count
    need = np.zeros((len(required), len(vocabulary)), dtype=np.float64)
    for u, names in enumerate(required):
        for name in names:
            need[u, column[name]] = 1.0 / len(names)
    mean_count = need @ counts.T
    empty = np.array([not names for names in required], dtype=bool)
    if len(required):
        mean_count[empty, :] = done[None, :]
    return np.asarray(1.0 - np.exp(-mean_count / scale), dtype=np.float64)


def distinct_sets(required: Sequence[tuple[str, ...]]) -> tuple[list[tuple[str, ...]], IntArray]:
    """The distinct skill sets (sorted, so the result does not depend on ticket order) and each row's set."""
    sets = sorted(set(required))
    index = {s: k for k, s in enumerate(sets)}
    return sets, np.array([index[r] for r in required], dtype=np.int64)


def why_not(compat: Compatibility, u: int, a: int, hours: float) -> str | None:
    """Why agent `a` cannot take a ticket of skill set `u` needing `hours` now (None: it can)."""
    s = compat.state
    agent = s.agents[a]
    skill = compat.skill[u, a]
    if skill < compat.min_match - 1e-12:
        weak = [name for name in compat.required[u] if agent.skills.get(name, 0.0) < compat.min_match]
        detail = f": weak {', '.join(weak)}" if weak else ""
        return f"skill {skill:.2f} < {compat.min_match:.2f}{detail}"
    if not s.available[a]:
        return "away (availability 0)"
    if s.room_tasks[a] < 1:
        return f"no room: holds {int(s.held_tasks[a])} of {agent.max_tasks} tickets"
    if hours > s.room_hours[a] + EPS:
        return f"no room: {s.held_hours[a]:.1f} of {s.capacity[a]:.1f} h held, needs {hours:.1f} h"
    return None
