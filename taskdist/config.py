"""`taskdist.yaml`: where it is, its defaults, and validation whose messages name the key.

The configuration is a tree of named tuples: immutable, and (unlike dataclasses, whose module and
generated methods cost 20-30 ms) cheap to define, which matters because every command loads this
module before doing anything. Treat their list and dict values as read-only. Every value has a
default, so a missing file or a missing key means "the documented default"; a present but wrong
value is a `ConfigError` naming the dotted key, the value and what is expected. Sections with rules
beyond "a number at least 0" check them in `check()`, which the loader calls.
"""

from __future__ import annotations

import os
from itertools import pairwise

from taskdist.errors import ConfigError
from taskdist.typing_free import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

CONFIG_NAME = "taskdist.yaml"
LEDGER_DIR = ".taskdist"
LEDGER_NAME = "ledger.db"


class Source(NamedTuple):
    """A ticket folder to import; `project` defaults to the folder's name."""

    path: str
    project: str | None = None


class EffortConfig(NamedTuple):
    """Conversions from every estimate form to hours, and the default for tickets without one."""

    default_hours: float = 4.0
    hours_per_day: float = 8.0
    hours_per_week: float = 40.0
    hours_per_point: float = 4.0
    tokens_per_hour: float = 10000.0


class WeightsConfig(NamedTuple):
    """Priority factor weights (the specification's defaults); they need not sum to 1."""

    urgency: float = 0.25
    business_impact: float = 0.30
    resource_efficiency: float = 0.20
    revenue: float = 0.15
    dependency: float = 0.10


def _default_skill_map() -> dict[str, list[str]]:
    # The same map `taskdist init` writes, so a missing taskdist.yaml means what the file shows.
    return {
        "py": ["python"],
        "api": ["backend"],
        "ui": ["frontend"],
        "ci": ["devops"],
        "qa": ["testing"],
        "documentation": ["docs"],
    }


class SkillsConfig(NamedTuple):
    """How tags, labels and ai_context become required skills when no explicit field is given.

    `map` sends a tag (lower-case) to one or more skills; `from_tags` says whether an unmapped tag
    that names a roster skill counts as a skill; `ignore` lists tags that are never skills.
    """

    map: dict[str, list[str]] = _default_skill_map()
    from_tags: bool = True
    ignore: tuple[str, ...] = ()


class LimitsConfig(NamedTuple):
    """Bounds that keep a hostile or broken file from costing unbounded time or memory."""

    max_file_bytes: int = 5_000_000
    max_frontmatter_bytes: int = 1_000_000
    max_yaml_nodes: int = 200_000
    max_yaml_depth: int = 100
    max_aliases: int = 100
    max_relations: int = 10_000
    max_files: int = 1_000_000
    max_dir_depth: int = 64


class LedgerConfig(NamedTuple):
    """How long a writer waits for another writer before giving up (exit code 75)."""

    lock_timeout_seconds: float = 30.0


class RebalanceConfig(NamedTuple):
    """Guard rails of `taskdist rebalance` (docs/rebalance.md).

    An agent is overloaded above `overloaded_above` utilization (the larger of hours over
    capacity x availability and tickets over max_tasks); a move may only fill its target up to
    `target_below`. A move's gain (value change plus `balance_weight` x priority x the share of the
    overload it relieves, on the 0-100 priority scale) must exceed `min_gain`. At most `max_moves` per
    run and `max_moves_per_agent` per agent (moving in or out); a ticket moved within
    `cooldown_hours` stays where it is.
    """

    overloaded_above: float = 1.0
    target_below: float = 0.85
    min_gain: float = 1.0
    balance_weight: float = 0.5
    max_moves: int = 10
    max_moves_per_agent: int = 3
    cooldown_hours: float = 24.0
    reimport: bool = True


class PriorityConfig(NamedTuple):
    """Tunables of the five priority factors; docs/scoring.md gives the formulas they enter."""

    urgency_thresholds_days: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0, 30.0)
    age_cap: float = 0.5
    age_full_days: float = 180.0
    age_step_days: float = 7.0
    label_weight: float = 2.0
    efficiency_scale: float = 1.0
    pipeline_weight: float = 0.5
    dependency_scale_hours: float = 40.0
    dependency_min_hours: float = 1.0

    def check(self) -> None:
        """Raise `ConfigError` naming the first bad setting (called for every section read from a file)."""
        bands = self.urgency_thresholds_days
        if not bands or any(b <= 0 for b in bands) or any(a >= b for a, b in pairwise(bands)):
            raise ConfigError(
                f"priority.urgency_thresholds_days must be increasing numbers of days above 0, got {bands!r}; "
                f"fix it in {CONFIG_NAME}"
            )
        for name in ("age_cap", "pipeline_weight"):
            if getattr(self, name) > 1:
                raise ConfigError(f"priority.{name} must be between 0 and 1; fix it in {CONFIG_NAME}")
        for name in ("age_full_days", "age_step_days", "efficiency_scale", "dependency_scale_hours"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"priority.{name} must be above 0; fix it in {CONFIG_NAME}")


class WorkloadConfig(NamedTuple):
    """Thresholds of the workload report's alerts (docs/status.md); utilization = load / capacity."""

    overloaded_above: float = 1.0
    idle_below: float = 0.25
    max_ready_age_days: float = 14.0
    trend_window_days: float = 7.0


class ProgressConfig(NamedTuple):
    """The completion forecast: the speed prior, working days, and the delay-risk bands (docs/status.md)."""

    prior_sigma: float = 0.5
    workdays_per_week: float = 5.0
    min_remaining_share: float = 0.1
    medium_risk: float = 0.2
    high_risk: float = 0.5
    critical_risk: float = 0.8

    def check(self) -> None:
        """Raise `ConfigError` naming the first bad setting (called for every section read from a file)."""
        if not 0 < self.workdays_per_week <= 7:
            raise ConfigError(f"progress.workdays_per_week must be above 0 and at most 7; fix it in {CONFIG_NAME}")
        if self.prior_sigma <= 0:
            raise ConfigError(f"progress.prior_sigma must be above 0; fix it in {CONFIG_NAME}")
        if self.min_remaining_share > 1:
            raise ConfigError(f"progress.min_remaining_share must be between 0 and 1; fix it in {CONFIG_NAME}")
        if not 0 < self.medium_risk < self.high_risk < self.critical_risk <= 1:
            raise ConfigError(
                "progress.medium_risk < high_risk < critical_risk must be increasing probabilities in (0, 1]; "
                f"fix them in {CONFIG_NAME}"
            )


ESCALATION_RULES = (
    "overdue",
    "delay_risk",
    "stalled",
    "blocked",
    "failed",
    "no_eligible_agent",
    "dependency_cycle",
    "dangling_dependency",
    "agent_overloaded",
)


class EscalationLevel(NamedTuple):
    """One step of the escalation policy: who is told, and how long before the next step."""

    name: str
    timeout_hours: float


def _default_levels() -> tuple[EscalationLevel, ...]:
    return (
        EscalationLevel("assignee", 24.0),
        EscalationLevel("tech-lead", 48.0),
        EscalationLevel("engineering-manager", 72.0),
    )


class EscalationConfig(NamedTuple):
    """The escalation policy (docs/status.md): rules, their thresholds, levels with timeouts, repeats."""

    levels: tuple[EscalationLevel, ...] = _default_levels()
    repeat: int = 0
    recovery: bool = True
    recovery_timeout_hours: float = 24.0
    max_recoveries: int = 1
    stalled_days: float = 5.0
    blocked_days: float = 7.0
    failed_times: int = 2
    delay_risk: str = "high"
    rules: tuple[str, ...] = ESCALATION_RULES

    def check(self) -> None:
        """Raise `ConfigError` naming the first bad setting (called for every section read from a file)."""
        if self.delay_risk not in ("medium", "high", "critical"):
            raise ConfigError(
                f"escalation.delay_risk must be medium, high or critical, got {self.delay_risk!r}; "
                f"fix it in {CONFIG_NAME}"
            )
        unknown = [r for r in self.rules if r not in ESCALATION_RULES]
        if unknown:
            raise ConfigError(
                f"escalation.rules: unknown rule {unknown[0]!r} (known: {', '.join(ESCALATION_RULES)}); "
                f"fix it in {CONFIG_NAME}"
            )
        if not self.levels:
            raise ConfigError(f"escalation.levels must list at least one level; fix it in {CONFIG_NAME}")
        if self.failed_times < 1:
            raise ConfigError(f"escalation.failed_times must be at least 1; fix it in {CONFIG_NAME}")

    @classmethod
    def from_mapping(cls, raw: Any, key: str) -> EscalationConfig:
        """Parse the section: `levels` is a list of {name, timeout_hours}; the rest is flat."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError(f"{key} must be a mapping, got {type(raw).__name__}; fix it in {CONFIG_NAME}")
        flat = {k: v for k, v in raw.items() if k != "levels"}
        base: EscalationConfig = _section(cls, flat, key)
        if "levels" not in raw:
            return base
        value = raw["levels"]
        if not isinstance(value, list):
            raise ConfigError(f"{key}.levels must be a list of {{name, timeout_hours}}; fix it in {CONFIG_NAME}")
        levels = []
        for index, item in enumerate(value):
            where = f"{key}.levels[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
                raise ConfigError(f"{where} must be a mapping with a name and timeout_hours; fix it in {CONFIG_NAME}")
            extra = sorted(str(k) for k in item if k not in ("name", "timeout_hours"))
            if extra:
                raise ConfigError(f"{where}.{extra[0]} is not a known setting (name, timeout_hours)")
            hours = _number(item.get("timeout_hours", 24.0), f"{where}.timeout_hours", low=0)
            if hours <= 0:
                raise ConfigError(f"{where}.timeout_hours must be above 0; fix it in {CONFIG_NAME}")
            levels.append(EscalationLevel(item["name"].strip(), hours))
        checked = base._replace(levels=tuple(levels))
        checked.check()
        return checked


class MatchingConfig(NamedTuple):
    """Agent x ticket compatibility and the assignment model (docs/assignment.md).

    compatibility = weighted mean of five parts in [0, 1] (the weights below, scaled to sum to 1);
    a pair is eligible when skill match >= min_match, the agent is available and has room.
    `slot_cost`: the k-th new ticket an agent gets in one plan counts 1 - slot_cost x (k-1) / max_tasks
    of its value, so equal candidates spread. Learning: `prior_outcomes` pseudo-outcomes at
    `prior_success` make a new agent neutral; experience reaches 63% after `experience_scale` done
    tickets sharing the ticket's skills.
    """

    min_match: float = 0.8
    skill: float = 0.40
    experience: float = 0.15
    performance: float = 0.20
    availability: float = 0.10
    load: float = 0.15
    slot_cost: float = 0.2
    experience_scale: float = 3.0
    prior_success: float = 0.8
    prior_outcomes: float = 2.0

    def check(self) -> None:
        """Raise `ConfigError` naming the first bad setting (called for every section read from a file)."""
        for name in ("min_match", "prior_success"):
            if getattr(self, name) > 1:
                raise ConfigError(f"matching.{name} must be between 0 and 1; fix it in {CONFIG_NAME}")
        if self.slot_cost >= 1:
            raise ConfigError(f"matching.slot_cost must be at least 0 and below 1; fix it in {CONFIG_NAME}")
        if self.experience_scale <= 0:
            raise ConfigError(f"matching.experience_scale must be above 0; fix it in {CONFIG_NAME}")
        if not self.skill + self.experience + self.performance + self.availability + self.load > 0:
            raise ConfigError(f"matching weights must not all be 0; fix them in {CONFIG_NAME}")


class Config(NamedTuple):
    """The whole configuration. `base_dir` is where relative paths in it are resolved from."""

    base_dir: str = "."
    sources: tuple[Source, ...] = ()
    roster: str | None = None
    effort: EffortConfig = EffortConfig()
    weights: WeightsConfig = WeightsConfig()
    skills: SkillsConfig = SkillsConfig()
    limits: LimitsConfig = LimitsConfig()
    ledger: LedgerConfig = LedgerConfig()
    priority: PriorityConfig = PriorityConfig()
    workload: WorkloadConfig = WorkloadConfig()
    progress: ProgressConfig = ProgressConfig()
    escalation: EscalationConfig = EscalationConfig()
    matching: MatchingConfig = MatchingConfig()
    rebalance: RebalanceConfig = RebalanceConfig()
    path: str | None = None

    def resolve(self, relative: str) -> str:
        """A path from the config file, relative to the file's folder."""
        # join keeps an absolute path as it is; normpath drops `./` and doubled slashes as pathlib did,
        # and folds `..` (the base folder is a real path: only a `link/..` written in the file could differ).
        return os.path.normpath(os.path.join(self.base_dir, os.path.expanduser(relative)))

    def reader_settings(self) -> str:
        """The settings that shape what a ticket file reads as (effort, skills, limits), as canonical text.

        A change to them makes the next import parse every file again, even those whose bytes did not change.
        """
        sections = {"effort": self.effort, "skills": self.skills, "limits": self.limits}
        return settings_text({name: _plain(section) for name, section in sections.items()})

    def digest(self) -> str:
        """A short hash of the effective settings, recorded with every run."""
        data = _plain(self)
        data.pop("base_dir", None)
        data.pop("path", None)
        import hashlib  # only writing commands record the digest; OpenSSL's loading is not free
        import json  # nor json's decoder, which loads `re` (see taskdist.json_quote)

        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def settings_text(data: Any) -> str:
    """Plain data (dicts, lists, text, numbers, booleans, None) as canonical text: `repr` with every
    dict's keys sorted, so that the order keys are written in does not count as a change.

    Not JSON: `json` loads `re` and `enum` with it (about 4.5 ms), and every import compares this text.
    """
    return repr(_sorted_keys(data))


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """A section tree as plain dicts and lists (for the digest and the reading-settings text)."""
    if hasattr(value, "_asdict"):
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _number(value: Any, key: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}; fix it in {CONFIG_NAME}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{key} must be {span}, got {value!r}; fix it in {CONFIG_NAME}")
    return float(value)


def _section(cls: Any, raw: Any, key: str) -> Any:
    """Build a flat numeric/bool/list section from a mapping, naming bad keys, and check it."""
    default = cls()
    if raw is None:
        return default
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a mapping, got {type(raw).__name__}; fix it in {CONFIG_NAME}")
    known = cls._fields
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
        elif isinstance(current, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"{dotted} must be a list; fix it in {CONFIG_NAME}")
            if current and all(isinstance(v, float) for v in current):
                values[name] = tuple(_number(v, f"{dotted}[{i}]", low=0) for i, v in enumerate(value))
            else:
                values[name] = tuple(str(v).lower() for v in value)
        elif isinstance(current, dict):
            values[name] = _skill_map(value, dotted)
        else:
            values[name] = value
    section = default._replace(**values)
    if hasattr(section, "check"):
        section.check()
    return section


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
    "priority": PriorityConfig,
    "workload": WorkloadConfig,
    "progress": ProgressConfig,
    "escalation": EscalationConfig,
    "matching": MatchingConfig,
    "rebalance": RebalanceConfig,
}


def config_from_mapping(
    raw: Any, base_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
) -> Config:
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
    # A section with a nested shape (escalation levels) parses itself through `from_mapping`.
    sections = {
        name: cls.from_mapping(raw.get(name), name)
        if hasattr(cls, "from_mapping")
        else _section(cls, raw.get(name), name)
        for name, cls in SECTIONS.items()
    }
    return Config(
        base_dir=os.fspath(base_dir),
        sources=_sources(raw.get("sources")),
        roster=roster,
        path=os.fspath(path) if path else None,
        **sections,
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate `taskdist.yaml` at `path` (with the same bounded loader as ticket files)."""
    from taskdist.errors import ParseError
    from taskdist.tickets.frontmatter import load_yaml

    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    try:
        raw = load_yaml(text, LimitsConfig())
    except ParseError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ConfigError(
            f"{path}{where} is not valid YAML ({exc.reason}); fix the file or run `taskdist init --force`"
        ) from exc
    return config_from_mapping(raw, os.path.realpath(os.path.dirname(path) or "."), path)


def find_upwards(start: str | os.PathLike[str], name: str) -> str | None:
    """The nearest `name` in `start` or one of its parents, as git finds `.git`."""
    folder = os.path.realpath(start)
    while True:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


class Workspace(NamedTuple):
    """Where the configuration and the ledger are for this invocation."""

    config: Config
    db_path: str
    db_exists: bool


def locate_workspace(
    cwd: str | os.PathLike[str], db_override: str | None, config_override: str | None = None
) -> Workspace:
    """Find `taskdist.yaml` and the ledger: explicit paths first, then walking up from `cwd`.

    The ledger lives at `.taskdist/ledger.db` beside `taskdist.yaml`; without a config file, the
    nearest existing `.taskdist/ledger.db` is used, else a new one in `cwd`.
    """
    cwd = os.fspath(cwd)
    config_path = config_override or find_upwards(cwd, CONFIG_NAME)
    if config_override and not os.path.exists(config_override):
        raise ConfigError(f"no configuration file at {config_override}; check the path or run `taskdist init`")
    config = load_config(config_path) if config_path else Config(base_dir=os.path.realpath(cwd))
    if db_override:
        db_path = db_override
    elif config_path:
        db_path = os.path.join(os.path.dirname(config_path), LEDGER_DIR, LEDGER_NAME)
    else:
        found = find_upwards(cwd, os.path.join(LEDGER_DIR, LEDGER_NAME))
        db_path = found if found else os.path.join(cwd, LEDGER_DIR, LEDGER_NAME)
    return Workspace(config=config, db_path=db_path, db_exists=os.path.exists(db_path))


DEFAULT_CONFIG_TEXT = """\
# taskdist configuration. Every key is optional: a missing key means the default shown here.
# Relative paths are resolved from the folder of this file.

# Ticket folders that `taskdist import` (with no PATH) and `taskdist rebalance` read.
# Each entry is a folder, or {{path: FOLDER, project: NAME}}; the project defaults to the folder name.
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

# Guard rails of `taskdist rebalance` (docs/rebalance.md). Only tickets not yet started move, from
# agents above overloaded_above utilization to eligible agents that stay below target_below.
rebalance:
  overloaded_above: 1.0
  target_below: 0.85
  min_gain: 1.0            # on the 0-100 priority scale: value gained plus overload relieved
  balance_weight: 0.5
  max_moves: 10            # per run
  max_moves_per_agent: 3   # per run, moving in or out
  cooldown_hours: 24       # a ticket moved this recently is not moved again
  reimport: true           # re-import the configured sources first

# How each priority factor is computed (formulas and a worked example: docs/scoring.md).
priority:
  # Urgency rises in steps as the slack (due - now - remaining work) shrinks past these days;
  # the last one is the horizon (no urgency from the deadline beyond it). Slack <= 0: urgency 1.
  urgency_thresholds_days: [1, 2, 3, 5, 7, 10, 14, 21, 30]
  # Age alone raises urgency once every age_step_days, up to age_cap after age_full_days.
  age_cap: 0.5
  age_full_days: 180
  age_step_days: 7
  # Business impact: the priority label counts as this many of the ticket's business signals.
  label_weight: 2
  # Resource efficiency reaches 63% with this many fully free, fully capable agents.
  efficiency_scale: 1
  # Revenue: pipeline value counts at this share of certain revenue.
  pipeline_weight: 0.5
  # Dependency: hours of open work waiting on a ticket at which the factor reaches 63%;
  # each waiting ticket counts at least dependency_min_hours.
  dependency_scale_hours: 40
  dependency_min_hours: 1

# Workload alerts (docs/status.md). Utilization = max(hours held / capacity_hours, tickets / max_tasks).
workload:
  overloaded_above: 1.0       # an agent above this utilization is overloaded
  idle_below: 0.25            # an available agent below it is idle (an alert when ready work waits)
  max_ready_age_days: 14      # a ready ticket waiting unassigned longer than this: alert
  trend_window_days: 7        # the forecast's trend compares with the run closest to this long ago

# Completion forecast and delay risk (docs/status.md). Actual/estimated hours per agent is lognormal,
# learned from outcomes (its median is the speed `taskdist agents` shows, with the same prior weight
# matching.prior_outcomes); an agent without history gets the spread below.
progress:
  prior_sigma: 0.5            # spread (log scale) of actual/estimated hours without history
  workdays_per_week: 5        # agents work hours_per_day x availability on this many days a week
  min_remaining_share: 0.1    # an open ticket always has at least this share of its estimate left
  medium_risk: 0.2            # P(finish after due) at which delay risk becomes medium,
  high_risk: 0.5              # high,
  critical_risk: 0.8          # and critical (an overdue ticket is critical)

# Escalation policy (docs/status.md). `taskdist escalate --apply` (and `rebalance`) sweep: a rule
# whose cause appears first tries automated recovery (re-assignment to the best eligible other
# agent), then raises level 1; a level rises again after its timeout while the cause persists;
# after the last level the policy starts again at level 1 `repeat` more times (no upper bound).
# An escalation closes by itself when its cause clears.
escalation:
  levels:
    - name: assignee
      timeout_hours: 24
    - name: tech-lead
      timeout_hours: 48
    - name: engineering-manager
      timeout_hours: 72
  repeat: 0
  recovery: true              # try re-assignment before raising a level
  recovery_timeout_hours: 24  # how long a recovery gets before level 1
  max_recoveries: 1           # re-assignments per escalation before people are told
  stalled_days: 5             # in progress (or review) longer than this without a status change
  blocked_days: 7             # status blocked longer than this
  failed_times: 2             # failed this often: people are told even after a recovery
  delay_risk: high            # escalate open tickets at this delay risk or worse (medium, high, critical)
  rules: [overdue, delay_risk, stalled, blocked, failed, no_eligible_agent, dependency_cycle,
          dangling_dependency, agent_overloaded]

# Who can take what (docs/assignment.md). Compatibility agent x ticket = weighted mean of skill match
# (mean proficiency over the required skills), experience (done tickets sharing those skills),
# performance (learned success rate and actual/estimated hours), availability and free capacity.
matching:
  min_match: 0.8              # eligible only with at least this skill match
  skill: 0.40                 # the weights of the five parts (scaled to sum to 1)
  experience: 0.15
  performance: 0.20
  availability: 0.10
  load: 0.15
  slot_cost: 0.2              # k-th new ticket of one agent counts 1 - slot_cost x (k-1) / max_tasks
  experience_scale: 3         # done tickets with the same skills at which experience reaches 63%
  prior_success: 0.8          # a new agent's success rate...
  prior_outcomes: 2           # ...held with the weight of this many outcomes
"""


def default_config_text(sources: list[str], roster: str | None) -> str:
    """The commented `taskdist.yaml` that `taskdist init` writes."""
    import json  # a JSON string is a YAML string (see taskdist.json_quote for why not at module level)

    lines = "\n".join(f"  - {json.dumps(s)}" for s in sources) if sources else "  []"
    if not sources:
        lines = "  # - tasks"
    text = DEFAULT_CONFIG_TEXT.format(sources=lines, roster=json.dumps(roster) if roster else "null")
    if not sources:
        text = text.replace("sources:\n  # - tasks", "sources: []\n  # - tasks")
    return text
