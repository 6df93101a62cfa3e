"""What the ledger's history teaches about each agent: success rate, speed, and skill experience.

Figures are a fold over outcomes, recomputed from the ledger on every run (never stored), so the
same ledger always gives the same figures and nothing drifts:

- every `done` event (the agent recorded on it) is a success; every `failed` event is a failure;
- every ticket imported as done whose assignee resolves to a roster agent (id, name or alias) is a
  success of that agent, unless a `done` event already covers that ticket (the event wins: it is
  the ledger's own record and carries the actual hours).

A success adds one to the agent's count for each skill the ticket required (its experience), and,
when the actual hours are known and the estimate was not assumed, a speed sample actual/estimated.

Priors make a new agent neutral: the success rate is (successes + prior_outcomes x prior_success) /
(outcomes + prior_outcomes); the speed is the geometric mean of the samples shrunk toward 1 by the
same number of pseudo-samples. Performance in [0, 1] = (success rate + pace) / 2 with pace =
1 / (1 + speed): 0.5 at the estimate, toward 1 faster, toward 0 slower.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskdist.config import MatchingConfig
from taskdist.models import Agent

SUCCESS_EVENTS = ("done",)
FAILURE_EVENTS = ("failed", "fail")


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One outcome as the ledger holds it (names as written; the roster resolves them)."""

    project: str
    ticket: str
    name: str | None
    success: bool
    source: str  # "event" or "import"
    skills: tuple[str, ...]
    estimate_hours: float | None  # None when the estimate was assumed
    actual_hours: float | None
    order: int = 0  # event id (later wins); 0 for imported tickets


@dataclass(slots=True)
class Learned:
    """An agent's learned figures (see the module docstring for the priors)."""

    done: int = 0
    failed: int = 0
    success_rate: float = 0.0
    speed: float = 1.0
    speed_samples: int = 0
    skills: dict[str, int] = field(default_factory=dict)
    performance: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "failed": self.failed,
            "success_rate": round(self.success_rate, 6),
            "speed": round(self.speed, 6),
            "speed_samples": self.speed_samples,
            "performance": round(self.performance, 6),
            "skills": dict(sorted(self.skills.items())),
        }


def neutral(cfg: MatchingConfig) -> Learned:
    """The figures of an agent without history: the priors."""
    return _finish(Learned(), 0.0, cfg)


def learn(records: Iterable[OutcomeRecord], agents: Sequence[Agent], cfg: MatchingConfig) -> dict[str, Learned]:
    """Fold the outcomes into per-agent figures (order of `records` does not matter)."""
    from taskdist.roster import alias_index

    index = alias_index(list(agents))
    vocabulary = {s for a in agents for s in a.skills}
    successes: dict[tuple[str, str], OutcomeRecord] = {}
    failures: list[OutcomeRecord] = []
    for record in records:
        if record.name is None:
            continue
        if not record.success:
            failures.append(record)
            continue
        key = (record.project, record.ticket)
        held = successes.get(key)
        if held is None or _rank(record) > _rank(held):
            successes[key] = record
    figures = {a.id: Learned() for a in agents}
    logs: dict[str, float] = {a.id: 0.0 for a in agents}
    for key in sorted(successes):
        record = successes[key]
        agent_id = _resolve(index, record.name)
        if agent_id is None:
            continue
        learned = figures[agent_id]
        learned.done += 1
        for skill in sorted({s for s in record.skills if s in vocabulary}):
            learned.skills[skill] = learned.skills.get(skill, 0) + 1
        if record.estimate_hours and record.actual_hours and record.estimate_hours > 0 and record.actual_hours > 0:
            learned.speed_samples += 1
            logs[agent_id] += math.log(record.actual_hours / record.estimate_hours)
    for record in failures:
        agent_id = _resolve(index, record.name)
        if agent_id is not None:
            figures[agent_id].failed += 1
    return {agent_id: _finish(learned, logs[agent_id], cfg) for agent_id, learned in figures.items()}


def _rank(record: OutcomeRecord) -> tuple[int, int]:
    return (1 if record.source == "event" else 0, record.order)


def _resolve(index: dict[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    return index.get(name.lower().lstrip("@").strip())


def _finish(learned: Learned, log_sum: float, cfg: MatchingConfig) -> Learned:
    weight = cfg.prior_outcomes
    outcomes = learned.done + learned.failed
    total = outcomes + weight
    learned.success_rate = (learned.done + weight * cfg.prior_success) / total if total > 0 else cfg.prior_success
    samples = learned.speed_samples + weight
    learned.speed = math.exp(log_sum / samples) if samples > 0 else 1.0
    pace = 1.0 / (1.0 + learned.speed)
    learned.performance = min(1.0, max(0.0, 0.5 * learned.success_rate + 0.5 * pace))
    return learned
