"""`taskdist agents`: the roster with the load each agent holds and what the ledger has taught about it."""

from __future__ import annotations

from typing import Any

from taskdist.config import Config
from taskdist.learning import learn
from taskdist.ledger import assignments as store
from taskdist.ledger.agents import load_agents
from taskdist.ledger.db import Ledger
from taskdist.models import Agent


def agent_overview(ledger: Ledger, config: Config) -> tuple[list[Agent], dict[str, dict[str, Any]]]:
    """The active roster and, per agent id: load_hours, load_tasks, utilization, learned figures.

    Load is the open work items it holds (assignee resolved through ids, names and aliases), in hours
    of work left; utilization = max(hours / (capacity x availability), tickets / max_tasks).
    """
    from taskdist.roster import alias_index

    agents = load_agents(ledger)
    index = alias_index(agents)
    hours = {a.id: 0.0 for a in agents}
    tasks = {a.id: 0 for a in agents}
    for name, count, left in store.held_work(ledger):
        agent_id = index.get(name.lower().lstrip("@").strip())
        if agent_id is not None:
            hours[agent_id] += left
            tasks[agent_id] += count
    learned = learn(store.outcome_records(ledger), agents, config.matching)
    figures = {}
    for a in agents:
        capacity = a.capacity_hours * a.availability
        by_hours = hours[a.id] / capacity if capacity > 0 else (float("inf") if hours[a.id] > 0 else 0.0)
        by_tasks = tasks[a.id] / a.max_tasks if a.max_tasks > 0 else (float("inf") if tasks[a.id] else 0.0)
        figures[a.id] = {
            "load_hours": round(hours[a.id], 6),
            "load_tasks": tasks[a.id],
            "utilization": round(max(by_hours, by_tasks), 6),
            "learned": learned[a.id].as_dict(),
        }
    return agents, figures
