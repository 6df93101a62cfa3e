"""`taskdist.yaml`: where it is, its defaults, and validation whose messages name the key.

The configuration is a tree of frozen dataclasses. Every value has a default, so a missing file or a
missing key means "the documented default"; a present but wrong value is a `ConfigError` naming the
dotted key, the value and what is expected.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from taskdist.errors import ConfigError

CONFIG_NAME = "taskdist.yaml"
LEDGER_DIR = ".taskdist"
LEDGER_NAME = "ledger.db"


@dataclass(frozen=True, slots=True)
class Source:
    """A ticket folder to import; `project` defaults to the folder's name."""

    path: str
    project: str | None = None


@dataclass(frozen=True, slots=True)
class EffortConfig:
    """Conversions from every estimate form to hours, and the default for tickets without one."""

    default_hours: float = 4.0
    hours_per_day: float = 8.0
    hours_per_week: float = 40.0
    hours_per_point: float = 4.0
    tokens_per_hour: float = 10000.0


@dataclass(frozen=True, slots=True)
class WeightsConfig:
    """Priority factor weights (the specification's defaults); they need not sum to 1."""

    urgency: float = 0.25
    business_impact: float = 0.30
    resource_efficiency: float = 0.20
    revenue: float = 0.15
    dependency: float = 0.10


@dataclass(frozen=True, slots=True)
class SkillsConfig:
    """How tags, labels and ai_context become required skills when no explicit field is given.

    `map` sends a tag (lower-case) to one or more skills; `from_tags` says whether an unmapped tag
    that names a roster skill counts as a skill; `ignore` lists tags that are never skills.
    """

    map: dict[str, list[str]] = field(default_factory=dict)
    from_tags: bool = True
    ignore: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Bounds that keep a hostile or broken file from costing unbounded time or memory."""

    max_file_bytes: int = 5_000_000
    max_frontmatter_bytes: int = 1_000_000
    max_yaml_nodes: int = 200_000
    max_yaml_depth: int = 100
    max_aliases: int = 100
    max_relations: int = 10_000
    max_files: int = 1_000_000
    max_dir_depth: int = 64


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """How long a writer waits for another writer before giving up (exit code 75)."""

    lock_timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration. `base_dir` is where relative paths in it are resolved from."""

    base_dir: str = "."
    sources: tuple[Source, ...] = ()
    roster: str | None = None
    effort: EffortConfig = field(default_factory=EffortConfig)
    weights: WeightsConfig = field(default_factory=WeightsConfig)
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    path: str | None = None

    def resolve(self, relative: str) -> Path:
        """A path from the config file, relative to the file's folder."""
        path = Path(os.path.expanduser(relative))
        return path if path.is_absolute() else Path(self.base_dir) / path

    def digest(self) -> str:
        """A short hash of the effective settings, recorded with every run."""
        data = asdict(self)
        data.pop("base_dir", None)
        data.pop("path", None)
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _number(value: Any, key: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}; fix it in {CONFIG_NAME}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{key} must be {span}, got {value!r}; fix it in {CONFIG_NAME}")
    return float(value)


def _section(cls: Any, raw: Any, key: str) -> Any:
    """Build a flat numeric/bool/list section dataclass from a mapping, naming bad keys."""
    default = cls()
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a mapping, got {type(raw).__name__}; fix it in {CONFIG_NAME}")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(
                f"{key}.{name} is not a known setting (known: {', '.join(sorted(known))}); fix it in {CONFIG_NAME}"
            )
        current = getattr(default, name)
        dotted = f"{key}.{name}"
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{dotted} must be true or false, got {value!r}; fix it in {CONFIG_NAME}")
            values[name] = value
        elif isinstance(current, int):
            values[name] = int(_number(value, dotted, low=0))
        elif isinstance(current, float):
            values[name] = _number(value, dotted, low=0)
        elif isinstance(current, list):
            if not isinstance(value, list):
                raise ConfigError(f"{dotted} must be a list; fix it in {CONFIG_NAME}")
            values[name] = [str(v).lower() for v in value]
        elif isinstance(current, dict):
            values[name] = _skill_map(value, dotted)
        else:
            values[name] = value
    return replace(default, **values)


def _skill_map(value: Any, key: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must map a tag to a skill or a list of skills; fix it in {CONFIG_NAME}")
    result: dict[str, list[str]] = {}
    for tag, target in value.items():
        targets = target if isinstance(target, list) else [target]
        if not all(isinstance(t, str) and t for t in targets):
            raise ConfigError(f"{key}.{tag} must be a skill name or a list of them; fix it in {CONFIG_NAME}")
        result[str(tag).lower()] = [t.lower() for t in targets]
    return result


def _sources(raw: Any) -> tuple[Source, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"sources must be a list of folders; fix it in {CONFIG_NAME}")
    result = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            result.append(Source(path=item))
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            project = item.get("project")
            if project is not None and not isinstance(project, str):
                raise ConfigError(f"sources[{index}].project must be text; fix it in {CONFIG_NAME}")
            result.append(Source(path=item["path"], project=project))
        else:
            raise ConfigError(
                f"sources[{index}] must be a folder path or {{path: ..., project: ...}}; fix it in {CONFIG_NAME}"
            )
    return tuple(result)


# Sections later modules add register a parser here, so this module stays the one place that
# knows the file's shape.
SECTIONS: dict[str, Any] = {
    "effort": EffortConfig,
    "weights": WeightsConfig,
    "skills": SkillsConfig,
    "limits": LimitsConfig,
    "ledger": LedgerConfig,
}


def config_from_mapping(raw: Any, base_dir: Path, path: Path | None = None) -> Config:
    """Validate a parsed `taskdist.yaml` mapping into a `Config`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{CONFIG_NAME} must be a mapping of settings, got {type(raw).__name__}")
    known = {"sources", "roster", *SECTIONS}
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {CONFIG_NAME} (known: {', '.join(sorted(known))})")
    roster = raw.get("roster")
    if roster is not None and not isinstance(roster, str):
        raise ConfigError(f"roster must be a file path; fix it in {CONFIG_NAME}")
    sections = {name: _section(cls, raw.get(name), name) for name, cls in SECTIONS.items()}
    return Config(
        base_dir=str(base_dir),
        sources=_sources(raw.get("sources")),
        roster=roster,
        path=str(path) if path else None,
        **sections,
    )


def load_config(path: Path) -> Config:
    """Read and validate `taskdist.yaml` at `path`."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where} is not valid YAML; fix the file or run `taskdist init --force`") from exc
    return config_from_mapping(raw, path.parent.resolve(), path)


def find_upwards(start: Path, name: str) -> Path | None:
    """The nearest `name` in `start` or one of its parents, as git finds `.git`."""
    current = start.resolve()
    for folder in (current, *current.parents):
        candidate = folder / name
        if candidate.exists():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where the configuration and the ledger are for this invocation."""

    config: Config
    db_path: Path
    db_exists: bool


def locate_workspace(cwd: Path, db_override: str | None, config_override: str | None = None) -> Workspace:
    """Find `taskdist.yaml` and the ledger: explicit paths first, then walking up from `cwd`.

    The ledger lives at `.taskdist/ledger.db` beside `taskdist.yaml`; without a config file, the
    nearest existing `.taskdist/ledger.db` is used, else a new one in `cwd`.
    """
    config_path = Path(config_override) if config_override else find_upwards(cwd, CONFIG_NAME)
    if config_override and not Path(config_override).exists():
        raise ConfigError(f"no configuration file at {config_override}; check the path or run `taskdist init`")
    config = load_config(config_path) if config_path else Config(base_dir=str(cwd.resolve()))
    if db_override:
        db_path = Path(db_override)
    elif config_path:
        db_path = config_path.parent / LEDGER_DIR / LEDGER_NAME
    else:
        found = find_upwards(cwd, f"{LEDGER_DIR}/{LEDGER_NAME}")
        db_path = found if found else cwd / LEDGER_DIR / LEDGER_NAME
    return Workspace(config=config, db_path=db_path, db_exists=db_path.exists())


DEFAULT_CONFIG_TEXT = """\
# taskdist configuration. Every key is optional: a missing key means the default shown here.
# Relative paths are resolved from the folder of this file.

# Ticket folders that `taskdist import` (with no PATH) and `taskdist rebalance` read.
# Each entry is a folder, or {path: FOLDER, project: NAME}; the project defaults to the folder name.
sources:
{sources}

# The agent roster (see docs/configuration.md for its format).
roster: {roster}

# Estimates become hours: estimated_hours as is, time_estimate strings ("3h", "30m", "2 days"),
# story_points x hours_per_point, estimated_tokens / tokens_per_hour. Tickets without any estimate
# get default_hours and are marked "assumed" in every report.
effort:
  default_hours: 4.0
  hours_per_day: 8.0
  hours_per_week: 40.0
  hours_per_point: 4.0
  tokens_per_hour: 10000.0

# Priority = sum of weight x factor, each factor in [0, 1]; reported on 0-100.
weights:
  urgency: 0.25
  business_impact: 0.30
  resource_efficiency: 0.20
  revenue: 0.15
  dependency: 0.10

# Required skills come from required_skills / skills / required_capabilities when a ticket has
# them, else from tags, labels and ai_context. `map` renames tags to skills; tags listed in
# `ignore` are never skills; with from_tags: false, only mapped tags count.
skills:
  from_tags: true
  map:
    py: python
    api: backend
    ui: frontend
    ci: devops
    qa: testing
    documentation: docs
  ignore: []

# Bounds for hostile or broken files (see docs/limits.md).
limits:
  max_file_bytes: 5000000
  max_frontmatter_bytes: 1000000
  max_yaml_nodes: 200000
  max_yaml_depth: 100
  max_aliases: 100
  max_relations: 10000
  max_files: 1000000
  max_dir_depth: 64

ledger:
  # How long a writing command waits for another writer before exiting with code 75.
  lock_timeout_seconds: 30
"""


def default_config_text(sources: list[str], roster: str | None) -> str:
    """The commented `taskdist.yaml` that `taskdist init` writes."""
    lines = "\n".join(f"  - {json.dumps(s)}" for s in sources) if sources else "  []"
    if not sources:
        lines = "  # - tasks"
    text = DEFAULT_CONFIG_TEXT.format(sources=lines, roster=json.dumps(roster) if roster else "null")
    if not sources:
        text = text.replace("sources:\n  # - tasks", "sources: []\n  # - tasks")
    return text
