"""Finding ticket files under an import root, and reading one file's bytes safely.

The walk never follows a symbolic link to a folder (no loops), skips `templates/` (templates are not
tickets), version-control and tool folders, and reports what it cannot enter. Reading is bounded by
`limits.max_file_bytes`; binary files are refused and non-UTF-8 text is read as Latin-1 with a warning.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from taskdist.config import LimitsConfig
from taskdist.errors import ParseError

TICKET_SUFFIXES = (".md", ".markdown")
SKIP_FOLDERS = frozenset({".git", ".hg", ".svn", "node_modules", ".taskdist", "__pycache__", ".venv", "venv"})
TEMPLATE_FOLDERS = frozenset({"templates", "template", "_templates"})


@dataclass(slots=True)
class FoundFile:
    """A candidate ticket file: where it is and its size and mtime (what decides re-reading)."""

    path: str
    rel_path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Discovery:
    files: list[FoundFile] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def discover(root: Path, limits: LimitsConfig) -> Discovery:
    """Every markdown file under `root` (or `root` itself when it is a file)."""
    found = Discovery()
    root_text = os.path.abspath(root)
    if os.path.isfile(root_text):
        _add(found, root_text, os.path.basename(root_text))
        return found
    stack: list[tuple[str, int]] = [(root_text, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.problems.append((folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        # Relative paths by slicing: os.path.relpath costs ~20 us a file, a third of a warm re-import.
        prefix = len(root_text) + 1
        for entry in entries:
            rel = entry.path[prefix:]
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError as exc:
                found.problems.append((entry.path, f"cannot inspect: {exc.strerror or exc}"))
                continue
            if is_dir:
                lowered = entry.name.lower()
                if lowered in SKIP_FOLDERS:
                    continue
                if lowered in TEMPLATE_FOLDERS:
                    found.skipped.append((entry.path, "templates folder: templates are not tickets"))
                    continue
                if depth + 1 > limits.max_dir_depth:
                    found.problems.append(
                        (entry.path, f"folder nested deeper than {limits.max_dir_depth} levels (limits.max_dir_depth)")
                    )
                    continue
                stack.append((entry.path, depth + 1))
            elif entry.name.lower().endswith(TICKET_SUFFIXES):
                if is_link:
                    try:
                        target = os.stat(entry.path)
                    except OSError as exc:
                        reason = (
                            "symbolic link loop"
                            if exc.errno == errno.ELOOP
                            else f"broken symbolic link ({exc.strerror})"
                        )
                        found.problems.append((entry.path, reason))
                        continue
                    if stat.S_ISDIR(target.st_mode):
                        found.skipped.append((entry.path, "symbolic link to a folder: not followed"))
                        continue
                _add(found, entry.path, rel)
            elif is_link and not os.path.exists(entry.path):
                try:
                    os.stat(entry.path)
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        found.problems.append((entry.path, "symbolic link loop"))
            if len(found.files) > limits.max_files:
                found.problems.append(
                    (root_text, f"more than {limits.max_files} files (limits.max_files): the rest were not read")
                )
                return found
    found.files.sort(key=lambda f: f.path)
    return found


def _add(found: Discovery, path: str, rel: str) -> None:
    try:
        info = os.stat(path)
    except OSError as exc:
        reason = "symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror or exc}"
        found.problems.append((path, reason))
        return
    if not stat.S_ISREG(info.st_mode):
        found.skipped.append((path, "not a regular file"))
        return
    found.files.append(FoundFile(path, rel.replace(os.sep, "/"), info.st_size, info.st_mtime_ns))


def read_bytes(path: str, limits: LimitsConfig) -> bytes:
    """A file's bytes, refusing anything over `limits.max_file_bytes` without reading it all."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except PermissionError as exc:
        raise ParseError("permission denied: taskdist cannot read this file (check its permissions)") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ParseError("symbolic link loop") from exc
        raise ParseError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.max_file_bytes:
        raise ParseError(f"file is larger than {limits.max_file_bytes} bytes (limits.max_file_bytes): not read")
    return data


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 (a BOM is dropped); refuse binary; fall back to Latin-1 with a warning."""
    if b"\x00" in data[:8192] or b"\x00" in data:
        raise ParseError("binary content (NUL bytes): not a text ticket")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        line = data.count(b"\n", 0, exc.start) + 1
        return text, [f"not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}): read as Latin-1"]
