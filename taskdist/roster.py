"""The agent roster: a YAML file the user writes (path in `taskdist.yaml` or `--roster`).

Validation errors name the agent and the field, e.g. `roster.yaml: agent 'qa-1': skills.testing must
be a number between 0 and 1, got 1.5`.
"""

from __future__ import annotations

import math
import os
from typing import Any

from taskdist.config import LimitsConfig
from taskdist.errors import ConfigError, ParseError
from taskdist.models import Agent

_FIELDS = {"id", "name", "skills", "capacity_hours", "max_tasks", "availability", "aliases"}


def _number(value: Any, where: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{where} must be {span}, got {value!r}")
    return float(value)


def parse_roster(raw: Any, source: str) -> list[Agent]:
    """Validate a parsed roster mapping (`{agents: [...]}` or a bare list) into agents."""
    entries = raw.get("agents") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: expected `agents:` with a list of agents")
    agents: list[Agent] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: agents[{index}] must be a mapping with at least an id")
        agent_id = entry.get("id")
        if not isinstance(agent_id, (str, int)) or isinstance(agent_id, bool) or not str(agent_id).strip():
            raise ConfigError(f"{source}: agents[{index}] needs an `id` (text)")
        agent_id = str(agent_id).strip()
        who = f"{source}: agent {agent_id!r}"
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            raise ConfigError(f"{who}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})")
        skills_raw = entry.get("skills", {})
        if isinstance(skills_raw, list):
            # `skills: [python, backend]` means full proficiency in each.
            skills_raw = {str(s): 1.0 for s in skills_raw}
        if not isinstance(skills_raw, dict):
            raise ConfigError(f"{who}: skills must map a skill to a proficiency 0..1, e.g. {{python: 0.9}}")
        skills = {
            str(name).strip().lower(): _number(level, f"{who}: skills.{name}", 0.0, 1.0)
            for name, level in skills_raw.items()
        }
        aliases_raw = entry.get("aliases", [])
        if isinstance(aliases_raw, str):
            aliases_raw = [aliases_raw]
        if not isinstance(aliases_raw, list) or not all(isinstance(a, (str, int)) for a in aliases_raw):
            raise ConfigError(f"{who}: aliases must be a list of names")
        max_tasks = entry.get("max_tasks", 5)
        if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or max_tasks < 0:
            raise ConfigError(f"{who}: max_tasks must be a whole number of at least 0, got {max_tasks!r}")
        name = entry.get("name", agent_id)
        agent = Agent(
            id=agent_id,
            name=str(name),
            skills=skills,
            capacity_hours=_number(entry.get("capacity_hours", 40), f"{who}: capacity_hours", 0.0),
            max_tasks=max_tasks,
            availability=_number(entry.get("availability", 1.0), f"{who}: availability", 0.0, 1.0),
            aliases=tuple(str(a).strip() for a in aliases_raw if str(a).strip()),
        )
        for spelling in (agent.id, agent.name, *agent.aliases):
            key = spelling.lower().lstrip("@")
            if key in seen and seen[key] != agent.id:
                raise ConfigError(f"{who}: the name or alias {spelling!r} is already used by agent {seen[key]!r}")
            seen[key] = agent.id
        agents.append(agent)
    return agents


def load_roster(path: str | os.PathLike[str]) -> list[Agent]:
    """Read and validate the roster file."""
    # Imported here: commands that only need `alias_index` should not pay for the YAML loader.
    from taskdist.tickets.frontmatter import load_yaml

    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the roster {path}: {exc}; check the `roster:` path") from exc
    try:
        # The bounded loader of ticket files: a roster is user input too (merge-key bombs, deep nesting).
        raw = load_yaml(text, LimitsConfig())
    except ParseError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ConfigError(f"the roster {path}{where} is not valid YAML ({exc.reason})") from exc
    return parse_roster(raw, os.path.basename(path))


def alias_index(agents: list[Agent]) -> dict[str, str]:
    """Every lower-cased spelling (id, name, alias, with or without `@`) -> agent id."""
    index: dict[str, str] = {}
    for agent in agents:
        for spelling in (agent.id, agent.name, *agent.aliases):
            index[spelling.lower().lstrip("@").strip()] = agent.id
    return index
