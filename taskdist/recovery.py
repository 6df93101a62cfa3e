"""Automated recovery: re-solve a ticket's assignment for the best eligible alternative agent.

The model is the assignment optimizer's (`matching.py`, docs/assignment.md), solved for one ticket:
eligible agents are those `matching.why_not` would accept (skill match >= min_match, available, a free
task slot, room for the ticket's remaining hours) and that are not excluded (whoever failed the
ticket, whoever holds it now); the best is the one with the highest pair value priority x
compatibility (for a single ticket the optimizer's slot cost is the same for every agent's first new
slot, so this is exactly the optimum), then the agent id. For a delay-risk escalation the
alternative must also be predicted to bring the risk below the escalation threshold, the ticket
queued behind everything that agent already holds.

One planner serves a whole sweep and remembers what it handed out: each recovery adds the ticket's
work to its new agent (and takes it from the old one) before the next is planned, so a sweep with
many recoveries spreads them instead of piling them on one agent.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from taskdist.escalation import RISK_ORDER, Finding, Recovery
from taskdist.learning import Learned
from taskdist.matching import EPS, Compatibility, agent_state, compatibility
from taskdist.progress import DAY, Z90, late_probability, risk_levels
from taskdist.status import TeamState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RecoveryPlanner:
    """Proposes re-assignments for one sweep over `state` (see the module docstring)."""

    def __init__(self, state: TeamState, learned: dict[str, Learned]) -> None:
        scores = state.scores
        self.state = state
        self.cfg = state.config.matching
        self.agents = state.agents
        self.learned = learned
        self.position = {a.id: k for k, a in enumerate(self.agents)}
        self.hours = np.asarray(scores.agent_load_hours, dtype=np.float64).copy()
        self.tasks = np.asarray(scores.agent_load_tasks, dtype=np.int64).copy()
        week = state.config.progress.workdays_per_week / 7.0
        self.per_day = np.asarray(state.pace_hours, dtype=np.float64) * week
        self.mu = np.array([s.mu for s in state.speeds], dtype=np.float64)
        self.sigma = np.array([s.sigma for s in state.speeds], dtype=np.float64)
        self.matching = agent_state(self.agents, learned, self.hours, self.tasks, self.cfg)
        self._matrices: dict[tuple[str, ...], Compatibility] = {}

    def compatibility(self, required: tuple[str, ...]) -> Compatibility:
        """Compatibility of one skill set with every agent (its parts read the live agent state)."""
        found = self._matrices.get(required)
        if found is None:
            found = self._matrices[required] = compatibility([required], self.matching, self.cfg)
        return found

    def _book(self, a: int, hours: float, tasks: int) -> None:
        """Move work onto (or off) agent `a` and refresh its load and room the way `agent_state` computes them."""
        self.hours[a] = max(0.0, self.hours[a] + hours)
        self.tasks[a] = max(0, self.tasks[a] + tasks)
        fresh = agent_state([self.agents[a]], self.learned, self.hours[a : a + 1], self.tasks[a : a + 1], self.cfg)
        for name in ("held_hours", "held_tasks", "room_hours", "room_tasks", "load"):
            getattr(self.matching, name)[a] = getattr(fresh, name)[0]

    def options(self, finding: Finding, excluded: tuple[str, ...]) -> list[Recovery]:
        """Every eligible alternative for the finding's ticket, best first."""
        state = self.state
        k = state.row_of(finding.project, finding.ticket)
        if k is None or not self.agents:
            return []
        scores = state.scores
        hours = float(scores.urgency.remaining_hours[k])
        compat = self.compatibility(scores.efficiency.required[k])
        # The conditions of `matching.why_not`, on all agents at once.
        live = self.matching
        eligible = compat.capable[0] & (live.room_tasks > 0) & (hours <= live.room_hours + EPS)
        for agent in excluded:
            if agent in self.position:
                eligible[self.position[agent]] = False
        candidates = np.nonzero(eligible)[0]
        if len(candidates) == 0:
            return []
        p_late = np.full(len(candidates), math.nan)
        if finding.rule == "delay_risk":
            p_late = self.risk_with(k, candidates)
            due = np.full(len(candidates), scores.tickets.due[k])
            closed = np.zeros(len(candidates), dtype=bool)
            levels = risk_levels(p_late, due, state.now.timestamp(), closed, state.config.progress)
            keep = levels < RISK_ORDER[state.config.escalation.delay_risk]
            candidates, p_late = candidates[keep], p_late[keep]
        total = compat.total[0]
        priority = float(scores.composite[k]) / 100.0
        value = priority * total[candidates]
        order = np.lexsort((candidates, -value))
        result = []
        ranked = order.tolist()
        for rank, pos in enumerate(ranked):
            a = int(candidates[pos])
            detail = f"compatibility {total[a]:.2f} (skill {compat.skill[0, a]:.2f})"
            if not math.isnan(p_late[pos]):
                detail += f", P(late) {p_late[pos]:.0%} with it"
            follow = ranked[rank + 1] if rank + 1 < len(ranked) else None
            result.append(
                Recovery(
                    self.agents[a].id,
                    float(value[pos]),
                    detail,
                    compatibility=float(total[a]),
                    runner_up=self.agents[int(candidates[follow])].id if follow is not None else None,
                    runner_up_loss=float(value[pos] - value[follow]) if follow is not None else None,
                )
            )
        return result

    def risk_with(self, k: int, candidates: IntArray) -> FloatArray:
        """P(ticket k finishes after its due date) with each candidate, behind all the work it holds."""
        state = self.state
        due = float(state.scores.tickets.due[k])
        if math.isnan(due):
            return np.zeros(len(candidates), dtype=np.float64)
        hours = self.hours[candidates] + float(state.progress.remaining_hours[k])
        per_day = self.per_day[candidates]
        with np.errstate(divide="ignore", invalid="ignore"):
            to_days = np.where(per_day > 0, 1.0 / per_day, np.inf)
            f50 = hours * np.exp(self.mu[candidates]) * to_days
            f90 = hours * np.exp(self.mu[candidates] + Z90 * self.sigma[candidates]) * to_days
        days = np.full(len(candidates), (due - state.now.timestamp()) / DAY)
        return late_probability(f50, f90, days)

    def propose(self, finding: Finding, excluded: tuple[str, ...]) -> Recovery | None:
        """The best alternative, booked: its load grows by the ticket's work, the old holder's shrinks."""
        options = self.options(finding, excluded)
        if not options:
            return None
        best = options[0]
        k = self.state.row_of(finding.project, finding.ticket)
        work = float(self.state.scores.urgency.remaining_hours[k]) if k is not None else 0.0
        self._book(self.position[best.agent], work, 1)
        old = self.position.get(finding.agent or "")
        if old is not None:
            self._book(old, -work, -1)
        return best
