"""Finding ticket files under an import root, and reading one file's bytes safely.

The walk never follows a symbolic link to a folder (no loops), skips `templates/` (templates are not
tickets), version-control and tool folders, and reports what it cannot enter. Reading is bounded by
`limits.max_file_bytes`; binary files are refused and non-UTF-8 text is read as Latin-1 with a warning.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from taskdist.config import LimitsConfig
from taskdist.errors import ParseError
from taskdist.typing_free import NamedTuple

TICKET_SUFFIXES = (".md", ".markdown")
SKIP_FOLDERS = frozenset({".git", ".hg", ".svn", "node_modules", ".taskdist", "__pycache__", ".venv", "venv"})
TEMPLATE_FOLDERS = frozenset({"templates", "template", "_templates"})


# Size and mtime of a file found without a stat (`iter_files(stat_files=False)`): the reader takes
# both from the open file instead.
UNSTATED = -1


class FoundFile(NamedTuple):
    """A candidate ticket file: where it is and its size and mtime (what decides re-reading).

    `readable` is False when its permission bits let nobody read it: `chmod 000` changes neither size
    nor mtime, so the importer reads such a file anyway to notice (and report) that it cannot.
    Size and mtime are UNSTATED when the walk did not stat the file.
    """

    path: str
    rel_path: str
    size: int
    mtime_ns: int
    readable: bool = True


class Discovery:
    """What a walk found: candidate files, problems (path, reason), and files skipped (path, reason)."""

    __slots__ = ("files", "problems", "skipped")

    def __init__(self) -> None:
        self.files: list[FoundFile] = []
        self.problems: list[tuple[str, str]] = []
        self.skipped: list[tuple[str, str]] = []


def display_path(path: str) -> str:
    """A path as storable, printable text: bytes that are not UTF-8 shown as `\\xNN` escapes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def _undecodable(name: str) -> bool:
    """Linux allows any bytes in a name; the ledger stores UTF-8 text, so such a path cannot be kept."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def iter_files(
    root: str | os.PathLike[str], limits: LimitsConfig, found: Discovery, *, stat_files: bool = True
) -> Iterator[FoundFile]:
    """Walk `root`, yielding each file as it is found (so that parsing can start before the walk ends).

    Every file also goes into `found.files` (in walk order: sorted within each folder), and what cannot
    be entered or read into `found.problems` and `found.skipped`.

    Without `stat_files`, a regular file (known as one from its directory entry) is yielded UNSTATED:
    when every file will be read anyway (a folder never imported), its reader's fstat gives size and
    mtime, and the walk spares a stat per file (a second of the main process's CPU at 100,000 files).
    """
    root_text = os.path.abspath(root)
    if os.path.isfile(root_text):
        item = _add(found, root_text, os.path.basename(root_text))
        if item is not None:
            yield item
        return
    stack: list[tuple[str, int]] = [(root_text, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.problems.append((display_path(folder), f"cannot list folder: {exc.strerror or exc}"))
            continue
        # Relative paths by slicing: os.path.relpath costs ~20 us a file, a third of a warm re-import.
        prefix = len(root_text) + 1
        for entry in entries:
            rel = entry.path[prefix:]
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError as exc:
                found.problems.append((display_path(entry.path), f"cannot inspect: {exc.strerror or exc}"))
                continue
            if is_dir:
                lowered = entry.name.lower()
                if lowered in SKIP_FOLDERS:
                    continue
                if lowered in TEMPLATE_FOLDERS:
                    found.skipped.append((display_path(entry.path), "templates folder: templates are not tickets"))
                    continue
                if _undecodable(entry.name):
                    found.problems.append(
                        (display_path(entry.path), "folder name is not valid UTF-8: not entered (rename it)")
                    )
                    continue
                if depth + 1 > limits.max_dir_depth:
                    found.problems.append(
                        (entry.path, f"folder nested deeper than {limits.max_dir_depth} levels (limits.max_dir_depth)")
                    )
                    continue
                stack.append((entry.path, depth + 1))
            elif is_link:
                if entry.name.lower() not in SKIP_FOLDERS:
                    yield from _link(found, entry.path, rel, folder)
            elif entry.name.lower().endswith(TICKET_SUFFIXES):
                # A directory entry that is not a regular file is stat-ed all the same, to be reported.
                regular = entry.is_file(follow_symlinks=False)
                item = _add(found, entry.path, rel, stat_file=stat_files or not regular)
                if item is not None:
                    yield item
            if len(found.files) > limits.max_files:
                found.problems.append(
                    (root_text, f"more than {limits.max_files} files (limits.max_files): the rest were not read")
                )
                return


def _link(found: Discovery, path: str, rel: str, folder: str) -> Iterator[FoundFile]:
    """A symbolic link: a ticket when it leads to a markdown file; folders are never followed (no loops)."""
    try:
        target = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            found.problems.append((display_path(path), "symbolic link loop: it leads back to itself"))
        elif path.lower().endswith(TICKET_SUFFIXES):
            found.problems.append((display_path(path), f"broken symbolic link ({exc.strerror})"))
        return
    if stat.S_ISDIR(target.st_mode):
        real, here = os.path.realpath(path), os.path.realpath(folder)
        if here == real or here.startswith(real.rstrip(os.sep) + os.sep):
            found.problems.append(
                (display_path(path), f"symbolic link loop: it points to {display_path(real)}, a folder enclosing it")
            )
        else:
            found.skipped.append(
                (display_path(path), "symbolic link to a folder: not followed (import its target directly)")
            )
    elif path.lower().endswith(TICKET_SUFFIXES):
        item = _add(found, path, rel)
        if item is not None:
            yield item


def _add(found: Discovery, path: str, rel: str, *, stat_file: bool = True) -> FoundFile | None:
    """Keep one candidate file and return it (None: refused, the reason in `found`); without
    `stat_file`, UNSTATED (see `iter_files`). A plain function, not a generator: one a file."""
    if not path.isascii() and _undecodable(path):
        found.problems.append((display_path(path), "file name is not valid UTF-8: not read (rename the file)"))
        return None
    size = mtime_ns = UNSTATED
    readable = True
    if stat_file:
        try:
            info = os.stat(path)
        except OSError as exc:
            reason = "symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror or exc}"
            found.problems.append((path, reason))
            return None
        if not stat.S_ISREG(info.st_mode):
            found.problems.append((path, f"not a regular file ({_file_type(info.st_mode)}): not read"))
            return None
        size, mtime_ns = info.st_size, info.st_mtime_ns
        readable = bool(info.st_mode & (stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH))
    item = FoundFile(path, rel.replace(os.sep, "/") if os.sep != "/" else rel, size, mtime_ns, readable)
    found.files.append(item)
    return item


def _file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    )
    return next((name for check, name in kinds if check(mode)), "not a file")


def read_file(path: str, limits: LimitsConfig) -> tuple[bytes, int]:
    """A file's bytes and its mtime (ns) as the open file had it; over `limits.max_file_bytes` refused.

    Opened without blocking and checked to be a regular file on the open descriptor: a file swapped
    for a named pipe after discovery must not hang the import.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError as exc:
        raise ParseError("permission denied: taskdist cannot read this file (check its permissions)") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ParseError("symbolic link loop") from exc
        raise ParseError(f"cannot read: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(f"not a regular file ({_file_type(info.st_mode)}): not read")
        # Ask for the size fstat gives (plus a byte, to notice growth), not for the limit: each
        # `read(limit)` allocated the whole limit (5 MB), the largest single cost of a cold import.
        cap = limits.max_file_bytes + 1
        chunks: list[bytes] = []
        total, want = 0, min(info.st_size + 1, cap)
        while total < cap:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if len(chunk) < want and total >= info.st_size:
                break  # a short read of a regular file is its end: no further read to be told so
            want = min(max(want, 1 << 16), cap - total)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > limits.max_file_bytes:
        raise ParseError(f"file is larger than {limits.max_file_bytes} bytes (limits.max_file_bytes): not read")
    return data, info.st_mtime_ns


def content_hash(data: bytes) -> str:
    import hashlib  # loading OpenSSL costs 3-4 ms, and a re-import that reads no file needs none

    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 (a BOM is dropped), UTF-16 with its BOM; refuse binary; else Windows-1252.

    Text that is not UTF-8 is almost always Windows-1252, the superset of Latin-1 whose bytes
    0x80-0x9f are curly quotes and dashes rather than C1 control codes; where it does not fit either
    (five bytes it leaves undefined) the text is read as Latin-1. Both come with a warning.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["UTF-16 text (it has a UTF-16 byte order mark): read as UTF-16"]
        except UnicodeDecodeError as exc:
            raise ParseError("starts with a UTF-16 byte order mark but is not valid UTF-16") from exc
    if b"\x00" in data:
        raise ParseError("binary content (NUL bytes): not a text ticket")
    # What the "utf-8-sig" codec does, without its Python-level wrapper (0.8 us a file).
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return (data[bom:] if bom else data).decode("utf-8"), []
    except UnicodeDecodeError as exc:
        start = exc.start + bom
        line = data.count(b"\n", 0, start) + 1
        where = f"not valid UTF-8 (byte 0x{data[start]:02x} on line {line})"
    try:
        return data.decode("cp1252"), [f"{where}: read as Windows-1252 (Latin-1)"]
    except UnicodeDecodeError:
        return data.decode("latin-1"), [f"{where}: read as Latin-1"]
