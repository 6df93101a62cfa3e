"""`taskdist import`: read ticket folders into the ledger, incrementally and idempotently.

Each source file is remembered (size, mtime, hash, the id it holds). On a new run an unchanged file
(same size and mtime) is not even opened; a file whose bytes are unchanged is not parsed. Files that
do change are parsed (in two processes when there are many), the winner for every id they touch is
chosen again, and only tickets whose content really changed are written, each with an event naming
the fields that changed. A run that finds nothing new writes nothing at all.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import attrgetter

from taskdist.config import Config, Source
from taskdist.errors import NothingImported, ParseError, UsageError
from taskdist.gc_pause import paused_gc
from taskdist.json_quote import quote_ascii
from taskdist.ledger import tickets as store
from taskdist.ledger.db import Ledger
from taskdist.ledger.tickets import FileState, TicketRecord, TicketWrites
from taskdist.tickets.discover import UNSTATED, Discovery, content_hash, decode_text, iter_files, read_file
from taskdist.tickets.marker import NO_HINTS, ProjectHints, load_hints
from taskdist.timestamps import format_datetime
from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from taskdist.models import Agent

# Parsing in worker processes pays off only past a few hundred files (process start-up ~50 ms).
PARALLEL_THRESHOLD = 400
_DEMOTED_FOLDER = r"(archive|backup|^bak$|^bad$|^old$|trash|deprecated|obsolete|^broken$)"  # any case
_DOC_NAMES = frozenset(
    {
        "readme",
        "changelog",
        "contributing",
        "license",
        "backlog",
        "roadmap",
        "index",
        "summary",
        "metrics",
        "retrospectives",
        "pr-backlog",
        "notes",
        "agents",
        "claude",
        "todo",
    }
)

Progress = Callable[[int, int], None]
Job = tuple[str, str, int, int, str, Config, str | None, ProjectHints]


# Plain classes, not dataclasses: a re-import that finds nothing to do must not pay for importing
# `dataclasses` (and `inspect` behind it) and generating methods, about a quarter of its time.


class FileOutcome:
    """What reading one changed file gave: a ticket, an error, or 'same bytes as before'."""

    __slots__ = (
        "content_hash",
        "error",
        "line",
        "mtime_ns",
        "path",
        "record",
        "rel_path",
        "same_bytes",
        "size",
        "skipped",
        "warnings",
    )

    def __init__(
        self,
        path: str,
        rel_path: str,
        size: int,
        mtime_ns: int,
        content_hash: str | None,
        record: TicketRecord | None = None,
        warnings: list[str] | None = None,
        error: str | None = None,
        line: int | None = None,
        skipped: bool = False,
        same_bytes: bool = False,
    ) -> None:
        self.path = path
        self.rel_path = rel_path
        self.size = size
        self.mtime_ns = mtime_ns
        self.content_hash = content_hash
        self.record = record
        self.warnings: list[str] = [] if warnings is None else warnings
        self.error = error
        self.line = line
        self.skipped = skipped
        self.same_bytes = same_bytes


class ImportReport:
    """The result of an import, shaped like its `--format json` output."""

    __slots__ = (
        "agents",
        "duplicates",
        "errors",
        "files_parsed",
        "files_read",
        "imported",
        "missing",
        "projects",
        "skipped",
        "tickets",
        "unchanged",
        "updated",
        "warnings",
    )

    def __init__(self) -> None:
        self.imported = 0
        self.updated = 0
        self.unchanged = 0
        self.missing = 0
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.duplicates: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self.tickets = 0
        self.projects: list[str] = []
        self.files_read = 0
        self.files_parsed = 0
        self.agents: dict[str, int] = {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "errors": self.errors,
            "warnings": self.warnings,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "tickets": self.tickets,
            "projects": self.projects,
            "files_read": self.files_read,
            "files_parsed": self.files_parsed,
            "agents": self.agents,
        }


class ImportFailed(NothingImported):
    """The import wrote nothing (nothing readable, or `--strict` met a bad file); `report` says why."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def read_one(
    path: str,
    rel_path: str,
    size: int,
    mtime_ns: int,
    project: str,
    config: Config,
    known_hash: str | None,
    hints: ProjectHints = NO_HINTS,
) -> FileOutcome:
    """Read and parse one file; never raises for a bad file (the reason goes into the outcome)."""
    from taskdist.tickets.reader import read_ticket  # the parsers and YAML only when a file is read

    outcome = FileOutcome(path, rel_path, size, mtime_ns, None)
    try:
        data, file_mtime_ns = read_file(path, config.limits)
        outcome.content_hash = content_hash(data)
        outcome.size = len(data)
        if mtime_ns == UNSTATED:  # found without a stat: what the open file says
            outcome.mtime_ns = file_mtime_ns
        if known_hash is not None and outcome.content_hash == known_hash:
            outcome.same_bytes = True
            return outcome
        text, decode_warnings = decode_text(data)
        result = read_ticket(text, rel_path, project, path, config, hints)
        if result.ticket is not None:
            # Rows and JSON are built here, in the worker, so the importer only compares and writes.
            outcome.record = store.record_of(result.ticket)
        outcome.warnings = decode_warnings + result.warnings
    except ParseError as exc:
        outcome.error, outcome.line = exc.reason, exc.line
        name = os.path.splitext(rel_path.rpartition("/")[2])[0].lower()  # the file name's stem
        if (name in _DOC_NAMES or name.split("-")[0] in _DOC_NAMES) and (
            "not a ticket" in exc.reason or "no ticket id" in exc.reason
        ):
            outcome.skipped = True
            outcome.error = "documentation file, not a ticket (no frontmatter, no ticket id)"
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as exc:
        # Defence in depth: a reader bug on a hostile file must not stop the import.
        outcome.error = f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    return outcome


# Failures that can clear without the file's size or mtime changing: a permission fixed by chmod, a
# link repaired, a limit raised in taskdist.yaml. Such files are read again on every run.
_RETRY_REASONS = ("permission denied", "cannot read", "symbolic link", "not a regular file")


def _retry(reason: str | None) -> bool:
    # String methods: a re-import that reads nothing asks this of every failed file, and must not load `re`.
    return reason is not None and (reason.startswith(_RETRY_REASONS) or "(limits." in reason)


# What a worker sends back for one file: FileOutcome's fields as a tuple, the record as a plain tuple
# too: plain tuples pickle fastest, with no class to look up on the other side.
if TYPE_CHECKING:  # only annotations name it: `Any` would import `typing` at run time
    Packed = tuple[Any, ...]


def _pack(outcome: FileOutcome) -> Packed:
    record = outcome.record
    packed_record = None if record is None else tuple(record)  # a named tuple: its fields in order
    return (
        outcome.path,
        outcome.rel_path,
        outcome.size,
        outcome.mtime_ns,
        outcome.content_hash,
        packed_record,
        outcome.warnings,
        outcome.error,
        outcome.line,
        outcome.skipped,
        outcome.same_bytes,
    )


def _unpack(packed: Packed) -> FileOutcome:
    path, rel_path, size, mtime_ns, digest, record, warnings, error, line, skipped, same = packed
    return FileOutcome(
        path,
        rel_path,
        size,
        mtime_ns,
        digest,
        None if record is None else TicketRecord(*record),
        warnings,
        error,
        line,
        skipped,
        same,
    )


def _read_batch(args: list[Job]) -> list[Packed]:
    return [_pack(read_one(*a)) for a in args]


_BATCH = 200
_WALK_SWITCH_INTERVAL = 0.0005  # seconds


def _read_all(jobs: Iterable[Job], progress: Progress | None) -> Iterator[FileOutcome]:
    """Read every job's file, yielding outcomes in job order.

    `jobs` may be a lazy walk of the folder: past `PARALLEL_THRESHOLD` files, batches go to two
    worker processes as they are found, so parsing starts while the walk goes on.
    """
    pending = iter(jobs)
    first = list(itertools.islice(pending, PARALLEL_THRESHOLD))
    if len(first) < PARALLEL_THRESHOLD or (workers := min(2, os.cpu_count() or 1)) < 2:
        everything = first + list(pending)
        total = len(everything)
        for index, job in enumerate(everything):
            yield read_one(*job)
            if progress and index % 50 == 0:
                progress(index + 1, total)
        if progress and total:
            progress(total, total)
        return
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    from taskdist.worker_guard import start_worker, widen_result_pipe

    counted = [0]

    def batches() -> Iterator[list[Job]]:
        queue = itertools.chain(first, pending)
        while batch := list(itertools.islice(queue, _BATCH)):
            counted[0] += len(batch)
            yield batch

    done = 0

    def results(future: Future[list[Packed]]) -> Iterator[FileOutcome]:
        nonlocal done
        packed = future.result()
        yield from map(_unpack, packed)
        done += len(packed)
        if progress:
            progress(done, counted[0])

    # The workers turn the garbage collector back on (only this process pauses it, see `paused_gc`)
    # and exit if this process dies.
    with ProcessPoolExecutor(max_workers=workers, initializer=start_worker, initargs=(os.getpid(),)) as pool:
        widen_result_pipe(pool)
        # Not `pool.map`: with it the workers got their first batch only once the walk was over (0.2 s
        # of both cores idle at 100,000 files). Every batch is sent as soon as it is found (so the
        # progress total is known early), and results are taken as soon as they are ready.
        in_flight: deque[Future[list[Packed]]] = deque()
        # While this thread walks the folder, the pool's own threads (which hand the batches to the
        # workers) wait for the interpreter lock: at the default switch interval of 5 ms the workers
        # got their first batch 0.2 s after it was sent. A shorter interval, for the walk only.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, _WALK_SWITCH_INTERVAL))
        try:
            for batch in batches():
                in_flight.append(pool.submit(_read_batch, batch))
                while in_flight and in_flight[0].done():
                    yield from results(in_flight.popleft())
        finally:
            sys.setswitchinterval(switch_interval)
        while in_flight:
            yield from results(in_flight.popleft())


def _ranked(states: Iterable[FileState]) -> list[FileState]:
    """The files holding one id, best first: not under archive/backup/bad folders, then the latest
    update, then the path.

    Three stable sorts, least significant key first: cheaper than a key that inverts the update
    text character by character. `updated` is the ledger's fixed-width timestamp text (or None,
    which ranks after every date), so comparing it as text compares the moments.
    """
    ranked = sorted(states, key=attrgetter("path"))
    ranked.sort(key=_updated_of, reverse=True)  # reverse keeps equal keys in order: still stable
    ranked.sort(key=attrgetter("demoted"))
    return ranked


def _updated_of(state: FileState) -> str:
    return state.updated or ""


def _demoted(rel_path: str) -> bool:
    """Under an archive, backup or "bad" folder (`rel_path` is POSIX, relative to the import root)."""
    return _demoted_folder(rel_path.rpartition("/")[0])


@functools.lru_cache(maxsize=4096)
def _demoted_folder(folder: str) -> bool:
    # Cached: the files of one folder share the answer (100,000 files sit in a few hundred folders).
    import re  # only for files read: a re-import that reads nothing must not load it (with enum, 3 ms)

    return any(re.search(_DEMOTED_FOLDER, part, re.IGNORECASE) for part in folder.split("/") if part)


def project_for(source: Source, real_path: str) -> str:
    """The project name: as configured, else the import folder's name (`real_path`: the source's, resolved)."""
    if source.project:
        return source.project
    return os.path.basename(os.path.dirname(real_path) if os.path.isfile(real_path) else real_path) or "default"


def import_sources(
    ledger: Ledger,
    sources: Iterable[Source],
    config: Config,
    now: datetime,
    progress: Progress | None = None,
    strict: bool = False,
    roster: str | os.PathLike[str] | None = None,
    checked: list[Agent] | None = None,
) -> ImportReport:
    """Import every source folder (and the roster) into the ledger in one transaction.

    `checked` is the roster as `check_request` returned it when the caller already ran it (the CLI
    does, before creating a ledger); otherwise the request is checked and the roster loaded here.
    Raises `ImportFailed` (nothing written, the report attached) when no source yields a ticket, or
    with `strict` when any file cannot be read.
    """
    report = ImportReport()
    source_list = list(sources)
    roster = os.fspath(roster) if roster is not None else None
    agents = checked if checked is not None else check_request(source_list, roster)
    # The import keeps every file's state alive; automatic collections walking them all were a fifth
    # of the main process's time in a cold 100k import.
    with paused_gc(), ledger.writing("import", now, config.digest):
        deferred = store.defer_indexes_if_empty(ledger) if source_list else []
        if agents is not None and roster is not None:
            from taskdist.ledger.agents import save_roster

            report.agents = save_roster(ledger, agents, os.path.realpath(roster))
            if any(report.agents[k] for k in ("added", "updated", "deactivated")):
                ledger.add_event(now, "roster_changed", data={"path": roster, **report.agents})
        settings = config.reader_settings()
        # Folders that make one project (`import one/tickets two/tickets`) are imported together: its
        # settings check, missing files, problems and counts are the project's, not each folder's.
        roots_of: dict[str, dict[str, str]] = {}  # project -> {real path: path as given}
        for source in source_list:
            real = os.path.realpath(source.path)
            roots_of.setdefault(project_for(source, real), {}).setdefault(real, source.path)
        for project, roots in roots_of.items():
            _import_project(ledger, roots, project, config, settings, now, report, progress)
            report.projects.append(project)
        store.restore_indexes(ledger, deferred)
        report.tickets = store.count_tickets(ledger, report.projects)
        if ledger.run_id is not None:
            ledger.set_run_summary({k: (len(v) if isinstance(v, list) else v) for k, v in report.as_dict().items()})
        if source_list and report.tickets == 0:
            where = ", ".join(s.path for s in source_list)
            raise ImportFailed(
                f"no ticket could be read from {where} ({len(report.errors)} files with errors, "
                f"{len(report.skipped)} skipped); nothing was written. See the report above and check the folder",
                report,
            )
        if strict and report.errors:
            raise ImportFailed(
                f"--strict: {len(report.errors)} files could not be read; nothing was written. "
                "Fix them or run without --strict",
                report,
            )
    return report


def check_request(sources: list[Source], roster: str | os.PathLike[str] | None) -> list[Agent] | None:
    """Refuse an import that cannot run (nothing named, a missing folder, a bad roster) before any write."""
    if not sources and roster is None:
        raise UsageError("nothing to import: give a folder (`taskdist import PATH`) or list sources in taskdist.yaml")
    for source in sources:
        if not os.path.exists(source.path):
            raise UsageError(f"{source.path} does not exist; give a folder of ticket files")
    if roster is None:
        return None
    from taskdist.roster import load_roster  # the roster's models and YAML only when there is one

    return load_roster(roster)


def _import_project(
    ledger: Ledger,
    roots: dict[str, str],
    project: str,
    config: Config,
    settings: str,
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    """Import the folders of `project` (usually one; `roots` maps each one's real path to the path as
    given); `settings` are `config.reader_settings()`, computed once per import."""
    stamp = format_datetime(now) or ""
    written_before = report.imported + report.updated
    # Each folder (as `/its/path/`, the prefix of everything under it) with its project marker's hints.
    hinted: list[tuple[str, ProjectHints]] = []
    for root in roots.values():
        hints, marker_problem = load_hints(root, config.limits)
        hinted.append((os.path.join(os.path.abspath(root), ""), hints))
        if marker_problem:
            path, reason = marker_problem
            report.warnings.append({"path": path, "line": None, "reason": reason, "project": project})
    states = store.file_states(ledger, project)
    root_text = next(iter(roots))  # the folder recorded for the project: the first named
    known_project = store.project_record(ledger, project)
    # Settings that shape what a file reads as changed since the last import: read every file again.
    reread_all = known_project is not None and known_project[1] != settings
    if known_project != (root_text, settings):
        store.record_project(ledger, project, root_text, settings, stamp)
    # Files the project holds from another folder are only "missing" when they are really gone.
    under_roots = tuple(top for top, _hints in hinted)

    found = Discovery()
    seen: set[str] = set()

    def jobs() -> Iterator[Job]:
        # Lazy: the workers start on the first files while the walk goes on.
        # A project never read: every file is read, so the walk need not stat them first.
        for top, hints in hinted:
            for item in iter_files(top, config.limits, found, stat_files=bool(states)):
                seen.add(item.path)
                old = states.get(item.path)
                retry = (
                    reread_all or old is None or old.state == "missing" or (old.state == "error" and _retry(old.reason))
                )
                if not retry and item.readable and old and old.size == item.size and old.mtime_ns == item.mtime_ns:
                    continue
                known = None if retry or old is None else old.content_hash
                report.files_read += 1
                yield (item.path, item.rel_path, item.size, item.mtime_ns, project, config, known, hints)

    changed_states: dict[str, FileState] = {}
    parsed: dict[str, FileOutcome] = {}
    affected: set[str] = set()
    writes = TicketWrites()
    # Tickets new to the ledger are written as their files arrive, while the workers parse the rest
    # (by id: the file written). The winner of each id is still decided once every file is in; a
    # later file that beats an early one simply replaces its row below.
    known_ids: set[str] | None = None
    early: dict[str, str] = {}
    early_states = _StateSaver(ledger, changed_states)
    for outcome in _read_all(jobs(), progress):
        old = states.get(outcome.path)
        if outcome.same_bytes and old is not None:
            # Touched but identical: remember the new mtime so the next run skips it without reading.
            changed_states[outcome.path] = old._replace(size=outcome.size, mtime_ns=outcome.mtime_ns)
            early_states.note(outcome.path)
            continue
        report.files_parsed += 1
        if outcome.record is not None:
            state = FileState(
                outcome.path,
                project,
                outcome.rel_path,
                "ticket",
                outcome.record.id,
                outcome.record.updated,
                _demoted(outcome.rel_path),
                outcome.size,
                outcome.mtime_ns,
                outcome.content_hash,
                None,
                None,
                outcome.warnings,
            )
            affected.add(outcome.record.id)
            if known_ids is None:
                known_ids = store.ticket_ids(ledger, project)
            if outcome.record.id not in known_ids and outcome.record.id not in early:
                early[outcome.record.id] = outcome.path
                _write(writes, outcome, stamp)
                if len(writes.tickets) >= 2000:
                    writes.flush(ledger)
                # Written: its rows are not kept until the end (the winner check below needs only
                # its path), which spares a cold 100k import 0.1 s of freeing them after the read.
            else:
                parsed[outcome.path] = outcome
        else:
            state = FileState(
                outcome.path,
                project,
                outcome.rel_path,
                "skipped" if outcome.skipped else "error",
                old.ticket_id if old else None,
                None,
                False,
                outcome.size,
                outcome.mtime_ns,
                outcome.content_hash,
                outcome.error,
                outcome.line,
                outcome.warnings,
            )
            if state == old:
                continue  # the same failure as last run: nothing to write
        if old and old.ticket_id:
            affected.add(old.ticket_id)
        changed_states[outcome.path] = state
        early_states.note(outcome.path)
    refused = dict(found.problems)
    for path, old in states.items():
        if path in seen or old.state == "missing":
            continue
        if path in refused:
            # Still there but not readable as a file now (a symbolic link loop, a named pipe): its ticket
            # keeps the last good version, flagged with this reason, rather than being called missing.
            # Size -1 so that the next run reads the file whatever its size and mtime.
            gone = old._replace(
                state="error", size=-1, mtime_ns=0, content_hash=None, line=None, reason=refused[path], warnings=[]
            )
        elif path.startswith(under_roots) or not os.path.exists(path):
            gone = old._replace(state="missing")
        else:
            continue
        if gone != old:
            changed_states[path] = gone
            if old.ticket_id:
                affected.add(old.ticket_id)

    # A project's first import: every ticket is new, and their `imported` events (in id order, as
    # the loop below would log them) are written by one statement after it: 0.1 s less of a cold
    # 100k import's end, when nothing else runs (0.30 s for the loop and the events, not 0.40).
    first_import = known_ids is not None and not known_ids
    deciding = affected
    if first_import:
        # An id that one file holds was written as that file arrived: it is only counted. The ids
        # that other files hold too (their outcomes kept in `parsed`) are ranked below, as is any id
        # not written early. This spares the end of a cold 100k import 0.1 s of sorting and looping.
        deciding = {o.record.id for o in parsed.values() if o.record is not None}
        deciding.update(affected.difference(early))
        report.imported += len(affected) - len(deciding)
    merged = {**states, **changed_states}
    by_id: dict[str, list[FileState]] = {}
    broken: dict[str, list[FileState]] = {}
    if deciding:  # a clean re-import affects nothing: no need to group 100,000 states
        for state in merged.values():
            if state.ticket_id in deciding:
                if state.state in _HELD:
                    by_id.setdefault(state.ticket_id, []).append(state)
                elif state.state == "error":
                    broken.setdefault(state.ticket_id, []).append(state)

    # Early writes are not "stored" tickets: they were new to the ledger when this run began.
    stored = store.stored_rows(ledger, project, deciding.difference(early))
    texts = store.stored_texts(ledger, project, stored)
    log = None if first_import else writes
    for ticket_id in sorted(deciding):
        candidates = by_id.get(ticket_id, [])
        if len(candidates) > 1:
            candidates = _ranked(candidates)
        for rank, candidate in enumerate(candidates):
            wanted = "ticket" if rank == 0 else "duplicate"
            if candidate.state != wanted:
                changed_states[candidate.path] = merged[candidate.path] = candidate._replace(state=wanted)
        old_row = stored.get(ticket_id)
        if not candidates:
            _flag_lost(writes, project, ticket_id, old_row, broken.get(ticket_id, []), stamp, report)
            continue
        winner = candidates[0]
        if old_row is None and early.get(ticket_id) == winner.path:
            _log_imported(log, project, ticket_id, winner.path, stamp, report)  # already written
            continue
        winning = parsed.get(winner.path)
        if winning is None:
            # The winner is an unchanged file that was not parsed this run (its rival went away).
            hints = _hints_for(winner.path, hinted)
            winning = read_one(winner.path, winner.rel_path, winner.size, winner.mtime_ns, project, config, None, hints)
            if winning.record is None:
                continue
        _store_winner(writes, winning, old_row, texts.get(ticket_id), stamp, report, early.get(ticket_id), log)
    writes.flush(ledger)
    if first_import:
        store.log_imported(ledger, project, stamp)

    early_states.finish()
    tickets = _collect_problems(ledger, project, merged, found, report)
    written = report.imported + report.updated - written_before
    report.unchanged += max(0, tickets - written)


def _hints_for(path: str, hinted: list[tuple[str, ProjectHints]]) -> ProjectHints:
    """The marker hints of the folder (of this run's) that holds `path`, or none."""
    return next((hints for top, hints in hinted if (path + os.sep).startswith(top)), NO_HINTS)


class _StateSaver:
    """Saves changed file states in batches while the workers still parse, not all at the end.

    In a cold 100k import saving them at the end was most of a second in which nothing else ran. A
    state saved early and changed later (a file that turns out to hold a duplicate, say) is saved again
    by `finish`: whatever the order, the ledger ends with `changed` exactly, in the same transaction.
    """

    __slots__ = ("changed", "ledger", "saved", "unsaved")
    BATCH = 5000

    def __init__(self, ledger: Ledger, changed: dict[str, FileState]) -> None:
        self.ledger = ledger
        self.changed = changed
        self.unsaved: list[str] = []
        self.saved: dict[str, FileState] = {}

    def note(self, path: str) -> None:
        """`changed[path]` was just set during the read."""
        self.unsaved.append(path)
        if len(self.unsaved) >= self.BATCH:
            batch = {p: self.changed[p] for p in self.unsaved}
            store.save_file_states(self.ledger, batch.values())
            self.saved.update(batch)
            self.unsaved.clear()

    def finish(self) -> None:
        """Save every state of `changed` not saved as it is now."""
        saved = self.saved
        rest = [state for path, state in self.changed.items() if saved.get(path) is not state]
        if rest:
            store.save_file_states(self.ledger, rest)


def _store_winner(
    writes: TicketWrites,
    outcome: FileOutcome,
    old_row: dict[str, Any] | None,
    old_text: dict[str, Any] | None,
    stamp: str,
    report: ImportReport,
    written: str | None = None,
    log: TicketWrites | None = None,
) -> None:
    """Write the winning file's ticket if anything about it changed; the event names what did.

    `written` is the file whose version of this (new) ticket was already written during the read;
    `log` takes the `imported` event of a new ticket (None: it is logged later, with all others).
    """
    record = outcome.record
    assert record is not None
    if old_row is None:
        if written != outcome.path:
            _write(writes, outcome, stamp)
        _log_imported(log, record.project, record.id, record.path, stamp, report)
        return
    new_row, new_text = record.row(), record.text_row()
    if old_row["outcome_file_status"] is not None and new_row["status"] == old_row["outcome_file_status"]:
        # The file still says what it said when an outcome (start, done, fail) was recorded: the
        # outcome's status stays (the `tickets_keep_outcome` trigger puts it back on a rewrite), so
        # the ledger's status does not change and the event must not say it did.
        new_row["status"] = old_row["status"]
    changed = [c for c in store.COMPARED_COLUMNS if old_row.get(c) != new_row[c]]
    changed += [c for c in store.TEXT_COLUMNS if (old_text or {}).get(c) != new_text[c]]
    flagged = bool(old_row["missing"]) or old_row["read_error"] is not None
    if not changed and not flagged:
        if (old_row["content_hash"], old_row["size"], old_row["mtime_ns"]) != (
            outcome.content_hash,
            outcome.size,
            outcome.mtime_ns,
        ):
            # Only the file's bytes changed (YAML quoting, a comment): keep the bookkeeping current
            # (write-back checks the hash) without an event, since no field of the ticket changed.
            _write(writes, outcome, stamp)
        return
    event = "restored" if flagged and not changed else "updated"
    report.updated += 1
    _write(writes, outcome, stamp)
    data: dict[str, Any] = {"path": record.path}
    if event == "updated":
        data["fields"] = changed
        data["changes"] = {c: [old_row.get(c), new_row.get(c)] for c in changed if c in new_row}
        if "frontmatter" in changed and old_text is not None:
            data["keys"] = _changed_keys(old_text["frontmatter"], new_text["frontmatter"])
    writes.event(stamp, event, record.project, record.id, _event_data(data))


def _log_imported(
    log: TicketWrites | None, project: str, ticket_id: str, path: str, stamp: str, report: ImportReport
) -> None:
    """Count a ticket new to the ledger and log its `imported` event into `log` (unless None)."""
    report.imported += 1
    if log is not None:
        # What `json.dumps({"path": ...}, sort_keys=True)` gives, without a dict and an encoder per ticket.
        log.event(stamp, "imported", project, ticket_id, '{"path": ' + quote_ascii(path) + "}")


def _event_data(data: dict[str, Any]) -> str:
    """An event's data as the log keeps it: `json.dumps(data, sort_keys=True)`."""
    import json  # not at module level: a re-import that writes nothing must not load it (see taskdist.json_quote)

    return json.dumps(data, sort_keys=True)


def _changed_keys(old: str, new: str) -> list[str]:
    """The frontmatter keys whose values differ between two stored (JSON) versions."""
    import json

    before, after = json.loads(old), json.loads(new)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _write(writes: TicketWrites, outcome: FileOutcome, stamp: str) -> None:
    assert outcome.record is not None
    writes.ticket(
        outcome.record,
        content_hash=outcome.content_hash or "",
        size=outcome.size,
        mtime_ns=outcome.mtime_ns,
        imported_at=stamp,
    )


def _flag_lost(
    writes: TicketWrites,
    project: str,
    ticket_id: str,
    old_row: dict[str, Any] | None,
    broken: list[FileState],
    stamp: str,
    report: ImportReport,
) -> None:
    """No readable file holds this id any more: keep the last good version, flagged.

    `broken` are the files that held the id and fail to read now: the flag names the first one's reason.
    """
    if old_row is None:
        return
    if broken:
        first = min(broken, key=lambda s: s.path)
        reason = f"{first.reason} ({first.path})"
        if old_row["read_error"] == reason:
            return
        writes.flag(project, ticket_id, missing=False, read_error=reason)
        writes.event(stamp, "read_error", project, ticket_id, _event_data({"reason": reason}))
    else:
        if old_row["missing"]:
            return
        writes.flag(project, ticket_id, missing=True, read_error=None)
        writes.event(stamp, "missing", project, ticket_id, _event_data({"path": old_row["path"]}))
        report.missing += 1


_HELD = ("ticket", "duplicate")


def _collect_problems(
    ledger: Ledger, project: str, merged: dict[str, FileState], found: Discovery, report: ImportReport
) -> int:
    """The report lists every current problem of the project, changed this run or not.

    Returns how many files hold the ticket of their id (the project's tickets).
    """
    problems: list[tuple[str, int | None, str, str]] = []
    for path, reason in found.problems:
        if path in merged and merged[path].state == "error":
            continue  # a file that held a ticket: reported below, with the ticket it keeps
        report.errors.append({"path": path, "line": None, "reason": reason, "project": project})
        problems.append((path, None, reason, "error"))
    for path, reason in found.skipped:
        report.skipped.append({"path": path, "reason": reason, "project": project})
    # One pass over every file: the ids held, and the files with something to say (on a clean 100k
    # re-import, none). Only ids held by several files, or clashing in case, are grouped further.
    held_ids: list[str | None] = []
    notable: list[FileState] = []
    tickets = 0
    for state in merged.values():
        if state.state in _HELD:
            held_ids.append(state.ticket_id)
            tickets += state.state == "ticket"
        if state.warnings or state.state in ("error", "skipped"):
            notable.append(state)
    counts = Counter(held_ids)
    held = counts.keys()
    for state in sorted(notable, key=lambda s: s.path):
        if state.state == "error":
            error = {"path": state.path, "line": state.line, "reason": state.reason, "project": project}
            if state.ticket_id is not None and state.ticket_id not in held:
                error["kept"] = state.ticket_id  # the ticket it held keeps its last good version, flagged
            report.errors.append(error)
            problems.append((state.path, state.line, state.reason or "", "error"))
        elif state.state == "skipped":
            report.skipped.append({"path": state.path, "reason": state.reason, "project": project})
        if state.state in ("ticket", "duplicate", "error"):
            for warning in state.warnings:
                report.warnings.append({"path": state.path, "line": None, "reason": warning, "project": project})
                problems.append((state.path, None, warning, "warning"))
    ids = [i for i in counts if i]
    grouped = {i for i in ids if counts[i] > 1} | _clashing(ids)
    by_id: dict[str, list[FileState]] = {}
    if grouped:
        for state in merged.values():
            if state.state in _HELD and state.ticket_id in grouped:
                by_id.setdefault(state.ticket_id, []).append(state)
    for ticket_id, states in sorted((k, v) for k, v in by_id.items() if len(v) > 1):
        ordered = _ranked(states)
        kept = ordered[0]
        why = (
            "not in an archive/backup folder"
            if not kept.demoted and any(s.demoted for s in ordered[1:])
            else ("latest update" if kept.updated and kept.updated != ordered[1].updated else "first path")
        )
        report.duplicates.append(
            {
                "id": ticket_id,
                "project": project,
                "kept": kept.path,
                "reason": why,
                "dropped": [s.path for s in ordered[1:]],
            }
        )
    for clash in _case_clashes(by_id):
        report.warnings.append({"path": clash[0], "line": None, "reason": clash[2], "project": project})
        problems.append(clash)
    if set(problems) != store.current_problems(ledger, project):
        store.replace_import_problems(ledger, project, problems, ledger.ensure_run())
    return tickets


def _clashing(ids: list[str]) -> set[str]:
    """The ids that differ from another only in case (usually none: then one set comprehension)."""
    if len({i.casefold() for i in ids}) == len(ids):
        return set()
    spellings: dict[str, list[str]] = {}
    for ticket_id in ids:
        spellings.setdefault(ticket_id.casefold(), []).append(ticket_id)
    return {i for group in spellings.values() if len(group) > 1 for i in group}


def _case_clashes(by_id: dict[str, list[FileState]]) -> list[tuple[str, int | None, str, str]]:
    """A warning on each file whose id differs from another only in case (`TSK-1`, `tsk-1`).

    Ids are case-sensitive, so both are kept; but a person typing either, or a reference written in
    the other case, can easily mean the wrong one.
    """
    spellings: dict[str, list[str]] = {}
    for ticket_id in by_id:
        spellings.setdefault(ticket_id.casefold(), []).append(ticket_id)
    warnings: list[tuple[str, int | None, str, str]] = []
    for group in spellings.values():
        if len(group) < 2:
            continue
        for ticket_id in sorted(group):
            others = ", ".join(repr(o) for o in sorted(group) if o != ticket_id)
            path = _ranked(by_id[ticket_id])[0].path
            reason = f"id {ticket_id!r} differs only in case from {others}: kept as separate tickets"
            warnings.append((path, None, reason, "warning"))
    return warnings
