"""Agents in the ledger: the roster as last imported (learned figures come from events)."""

from __future__ import annotations

import json
from typing import Any

from taskdist.ledger.db import Ledger
from taskdist.models import Agent


def _row(agent: Agent, roster_path: str) -> tuple[Any, ...]:
    return (
        agent.id,
        agent.name,
        json.dumps(agent.skills, sort_keys=True),
        agent.capacity_hours,
        agent.max_tasks,
        agent.availability,
        json.dumps(list(agent.aliases)),
        1,
        roster_path,
    )


def save_roster(ledger: Ledger, agents: list[Agent], roster_path: str) -> dict[str, int]:
    """Upsert the roster; agents no longer listed stay (history refers to them) but become inactive.

    Returns counts of added, updated, unchanged and deactivated agents. Writes only what changed.
    """
    current = {
        r[0]: r
        for r in ledger.conn.execute(
            "SELECT id, name, skills, capacity_hours, max_tasks, availability, aliases, active, roster_path FROM agents"
        )
    }
    counts = {"added": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
    listed = set()
    for agent in agents:
        listed.add(agent.id)
        row = _row(agent, roster_path)
        old = current.get(agent.id)
        if old is not None and tuple(old) == row:
            counts["unchanged"] += 1
            continue
        ledger.conn.execute(
            "INSERT OR REPLACE INTO agents (id, name, skills, capacity_hours, max_tasks, availability, aliases, "
            "active, roster_path) VALUES (?,?,?,?,?,?,?,?,?)",
            row,
        )
        counts["added" if old is None else "updated"] += 1
    for agent_id, old in current.items():
        if agent_id not in listed and old[7]:
            ledger.conn.execute("UPDATE agents SET active = 0 WHERE id = ?", (agent_id,))
            counts["deactivated"] += 1
    return counts


def load_agents(ledger: Ledger, include_inactive: bool = False) -> list[Agent]:
    """The roster in id order."""
    where = "" if include_inactive else "WHERE active = 1"
    cursor = ledger.conn.execute(
        f"SELECT id, name, skills, capacity_hours, max_tasks, availability, aliases FROM agents {where} ORDER BY id"
    )
    return [
        Agent(
            id=r[0],
            name=r[1],
            skills=json.loads(r[2]),
            capacity_hours=r[3],
            max_tasks=r[4],
            availability=r[5],
            aliases=tuple(json.loads(r[6])),
        )
        for r in cursor
    ]
