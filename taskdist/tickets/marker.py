"""The ai-trackdown project marker `.ai-trackdown/config.yaml`: the id prefixes and folder names it declares.

ai-trackdown-tools writes `naming_conventions.{project,epic,issue,task,pr}_prefix` and
`structure.{projects,epics,issues,tasks,prs}_dir`. A project that renamed them (`STORY-12` for
issues, a `stories/` folder) is read with its own words: these hints are consulted before the
built-in prefix and folder tables. The marker is looked for in the import root and its parent (where
`tasks_directory` puts it); a missing marker means no hints, a broken one a warning.
"""

from __future__ import annotations

import os

from taskdist.config import LimitsConfig
from taskdist.errors import ParseError
from taskdist.typing_free import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from taskdist.models import Kind

MARKER = os.path.join(".ai-trackdown", "config.yaml")


class ProjectHints(NamedTuple):
    """Id prefixes (upper case) and folder names (lower case) a project declares for each kind."""

    prefixes: tuple[tuple[str, Kind], ...] = ()
    folders: tuple[tuple[str, Kind], ...] = ()
    source: str | None = None

    def kind_for_prefix(self, prefix: str) -> Kind | None:
        for name, kind in self.prefixes:
            if name == prefix:
                return kind
        return None

    def kind_for_folder(self, folder: str) -> Kind | None:
        for name, kind in self.folders:
            if name == folder:
                return kind
        return None


NO_HINTS = ProjectHints()


def load_hints(root: str | os.PathLike[str], limits: LimitsConfig) -> tuple[ProjectHints, tuple[str, str] | None]:
    """The hints of the marker nearest to `root` (itself, then its parent), and (path, reason) if it is broken."""
    folder = os.path.abspath(root)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    for candidate in (os.path.join(folder, MARKER), os.path.join(os.path.dirname(folder), MARKER)):
        if os.path.isfile(candidate):
            return _read(candidate, limits)
    return NO_HINTS, None


def _read(path: str, limits: LimitsConfig) -> tuple[ProjectHints, tuple[str, str] | None]:
    from taskdist.models import Kind
    from taskdist.tickets.frontmatter import load_yaml  # YAML only for a folder that has a marker

    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_frontmatter_bytes + 1)
        raw = load_yaml(data.decode("utf-8", "replace"), limits)
    except (OSError, ParseError) as exc:
        reason = exc.reason if isinstance(exc, ParseError) else (exc.strerror or str(exc))
        return NO_HINTS, (path, f"project marker not used: {reason}")
    if not isinstance(raw, dict):
        return NO_HINTS, (path, "project marker not used: not a mapping of settings")
    prefixes: list[tuple[str, Kind]] = []
    folders: list[tuple[str, Kind]] = []
    naming = raw.get("naming_conventions")
    structure = raw.get("structure")
    for word in ("project", "epic", "issue", "task", "pr"):
        kind = Kind(word)
        if isinstance(naming, dict):
            prefix = naming.get(f"{word}_prefix")
            if isinstance(prefix, str) and prefix.strip():
                prefixes.append((prefix.strip().rstrip("-").upper(), kind))
        if isinstance(structure, dict):
            name = structure.get(f"{word}s_dir")
            if isinstance(name, str) and name.strip():
                folders.append((os.path.basename(name.strip().rstrip("/")).lower(), kind))
    return ProjectHints(tuple(prefixes), tuple(folders), path), None
