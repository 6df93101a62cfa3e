"""Schema migrations (sqlite-utils `Migrations`); append new ones, never edit applied ones.

Each new migration's name goes into `MIGRATIONS` in db.py too (opening checks it without sqlite-utils).

Numbers the engine reads in bulk live in narrow tables (`tickets`, `agents`); long text (bodies,
the verbatim frontmatter) lives in `ticket_text`, so loading arrays never drags bodies along.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("taskdist")


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE projects (
            name TEXT PRIMARY KEY,
            root TEXT NOT NULL,
            first_imported TEXT NOT NULL
        );
        CREATE TABLE tickets (
            project TEXT NOT NULL,
            id TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            status TEXT NOT NULL,
            status_raw TEXT,
            priority TEXT,
            priority_raw TEXT,
            assignee TEXT,
            assignee_raw TEXT,
            created TEXT,
            updated TEXT,
            due TEXT,
            closed TEXT,
            estimate_hours REAL NOT NULL,
            estimate_source TEXT NOT NULL,
            estimate_assumed INTEGER NOT NULL,
            actual_hours REAL,
            checklist_done INTEGER NOT NULL DEFAULT 0,
            checklist_total INTEGER NOT NULL DEFAULT 0,
            completion_pct REAL,
            skills TEXT NOT NULL DEFAULT '[]',
            skills_source TEXT NOT NULL DEFAULT 'none',
            parent TEXT,
            depends_on TEXT NOT NULL DEFAULT '[]',
            blocks TEXT NOT NULL DEFAULT '[]',
            business TEXT NOT NULL DEFAULT '{}',
            dialect TEXT NOT NULL,
            path TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            missing INTEGER NOT NULL DEFAULT 0,
            read_error TEXT,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (project, id)
        );
        CREATE INDEX tickets_status ON tickets (status);
        CREATE INDEX tickets_assignee ON tickets (assignee);
        CREATE TABLE ticket_text (
            project TEXT NOT NULL,
            id TEXT NOT NULL,
            body TEXT NOT NULL,
            frontmatter TEXT NOT NULL,
            relations TEXT NOT NULL,
            PRIMARY KEY (project, id)
        );
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            rel_path TEXT NOT NULL,
            state TEXT NOT NULL,
            ticket_id TEXT,
            updated TEXT,
            demoted INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash TEXT,
            reason TEXT,
            line INTEGER,
            warnings TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX files_project ON files (project, ticket_id);
        CREATE TABLE agents (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            skills TEXT NOT NULL,
            capacity_hours REAL NOT NULL,
            max_tasks INTEGER NOT NULL,
            availability REAL NOT NULL,
            aliases TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            roster_path TEXT
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            command TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            config_hash TEXT,
            summary TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            run_id INTEGER REFERENCES runs (id),
            kind TEXT NOT NULL,
            project TEXT,
            ticket TEXT,
            agent TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_ticket ON events (project, ticket);
        CREATE INDEX events_kind ON events (kind, at);
        CREATE TABLE import_errors (
            path TEXT NOT NULL,
            project TEXT NOT NULL,
            line INTEGER,
            reason TEXT NOT NULL,
            severity TEXT NOT NULL,
            run_id INTEGER REFERENCES runs (id)
        );
        CREATE INDEX import_errors_project ON import_errors (project);
        """
    )
    # Events are append-only: the ledger itself refuses to change or delete history.
    db.executescript(
        """
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        """
    )


@migrations(name="0003_assignments")
def assignments(db: Database) -> None:
    """Assignment decisions: proposed, applied (`assign --apply`), claimed (`next --claim`), superseded.

    At most one applied-or-claimed row per ticket (a partial unique index: two claimers can never both
    hold one ticket). `file_assignee` is what the ticket file said when the decision was written. An
    applied or claimed assignment is the ticket's effective assignee: `tickets.assignee` is set when it
    is written, and the trigger keeps it across re-imports while the file still says what it said
    then; once the file names someone else (or nobody, after naming the agent), the file wins and the
    assignment becomes superseded. See docs/assignment.md.
    """
    db.executescript(
        """
        CREATE TABLE assignments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            project TEXT NOT NULL,
            ticket TEXT NOT NULL,
            agent TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('proposed', 'applied', 'claimed', 'superseded')),
            strategy TEXT NOT NULL,
            value REAL NOT NULL,
            priority REAL NOT NULL,
            compatibility REAL NOT NULL,
            runner_up TEXT,
            runner_up_loss REAL,
            explanation TEXT NOT NULL DEFAULT '{}',
            file_assignee TEXT,
            created_at TEXT NOT NULL,
            superseded_at TEXT,
            run_id INTEGER REFERENCES runs (id)
        );
        CREATE INDEX assignments_ticket ON assignments (project, ticket, state);
        CREATE INDEX assignments_agent ON assignments (agent, state);
        CREATE UNIQUE INDEX assignments_active ON assignments (project, ticket)
            WHERE state IN ('applied', 'claimed');
        CREATE TRIGGER tickets_keep_assignment AFTER INSERT ON tickets
        WHEN EXISTS (
            SELECT 1 FROM assignments a
            WHERE a.project = NEW.project AND a.ticket = NEW.id AND a.state IN ('applied', 'claimed')
        )
        BEGIN
            UPDATE assignments SET state = 'superseded', superseded_at = NEW.imported_at
            WHERE project = NEW.project AND ticket = NEW.id AND state IN ('applied', 'claimed')
              AND file_assignee IS NOT NEW.assignee;
            UPDATE tickets
            SET assignee = (
                SELECT a.agent FROM assignments a
                WHERE a.project = NEW.project AND a.ticket = NEW.id AND a.state IN ('applied', 'claimed')
            )
            WHERE project = NEW.project AND id = NEW.id
              AND EXISTS (
                SELECT 1 FROM assignments a
                WHERE a.project = NEW.project AND a.ticket = NEW.id AND a.state IN ('applied', 'claimed')
              );
        END;
        """
    )


@migrations(name="0004_status")
def status(db: Database) -> None:
    """Outcome overrides, escalations, and per-run workload snapshots (see docs/status.md).

    `status_overrides` holds the status the latest outcome command (`start`, `done`, `fail`) set,
    with what the file said at that moment. `tickets.status` is the ledger's view: the outcome's
    status while the file still says what it said then. The trigger keeps that true across
    re-imports: when `import` rewrites a ticket whose file status is unchanged, the outcome is put
    back; when the file's status changed after the outcome, the file wins and the override goes.
    `tickets_rollup` covers the columns the status models read in bulk, so they load without the wide rows.
    """
    db.executescript(
        """
        CREATE TABLE status_overrides (
            project TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT NOT NULL,
            file_status TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (project, id)
        );
        CREATE TRIGGER tickets_keep_outcome AFTER INSERT ON tickets
        WHEN EXISTS (SELECT 1 FROM status_overrides o WHERE o.project = NEW.project AND o.id = NEW.id)
        BEGIN
            DELETE FROM status_overrides
            WHERE project = NEW.project AND id = NEW.id AND file_status != NEW.status;
            UPDATE tickets
            SET status = (SELECT o.status FROM status_overrides o WHERE o.project = NEW.project AND o.id = NEW.id)
            WHERE project = NEW.project AND id = NEW.id
              AND EXISTS (SELECT 1 FROM status_overrides o WHERE o.project = NEW.project AND o.id = NEW.id);
        END;
        CREATE TABLE escalations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rule TEXT NOT NULL,
            subject TEXT NOT NULL,
            project TEXT,
            ticket TEXT,
            agent TEXT,
            level INTEGER NOT NULL,
            cycle INTEGER NOT NULL DEFAULT 0,
            recoveries INTEGER NOT NULL DEFAULT 0,
            opened_at TEXT NOT NULL,
            last_level_at TEXT NOT NULL,
            closed_at TEXT,
            cause TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX escalations_open ON escalations (rule, subject) WHERE closed_at IS NULL;
        CREATE INDEX escalations_ticket ON escalations (project, ticket);
        CREATE TABLE workload_snapshots (
            run_id INTEGER PRIMARY KEY REFERENCES runs (id),
            at TEXT NOT NULL,
            open_tickets INTEGER NOT NULL,
            ready_tickets INTEGER NOT NULL,
            backlog_hours REAL NOT NULL,
            ready_backlog_hours REAL NOT NULL,
            team_capacity_hours REAL NOT NULL,
            health REAL NOT NULL
        );
        CREATE INDEX workload_snapshots_at ON workload_snapshots (at);
        CREATE INDEX tickets_rollup ON tickets (project, id, kind, parent, updated, created);
        """
    )


@migrations(name="0005_reader_settings")
def reader_settings(db: Database) -> None:
    """The reading settings (effort, skills, limits) each project was last imported with.

    A file whose bytes did not change is not read again, unless these settings changed since: then
    every file of the project is parsed again, so that no ticket keeps values an older setting gave.
    NULL (a ledger from before this migration) counts as "changed".
    """
    db.executescript("ALTER TABLE projects ADD COLUMN reader_settings TEXT;")


@migrations(name="0006_keep_on_rewrite")
def keep_on_rewrite(db: Database) -> None:
    """The two keep-triggers fire when an import rewrites a ticket, not on every insert.

    Outcomes and applied assignments only ever concern tickets already in the ledger (tickets are
    never deleted), so a ticket new to the ledger cannot have one. The import now writes a ticket with
    an upsert: a new ticket is a plain insert (no trigger: firing two triggers per row was about a
    quarter of the main process's time in a cold 100k import), a rewrite an `UPDATE` that sets `imported_at`,
    which fires them with the same bodies as before. Other updates of tickets (outcome commands,
    write-back bookkeeping) do not set `imported_at` and fire nothing, as before.
    """
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
        ["tickets_keep_assignment", "tickets_keep_outcome"],
    ).fetchall()
    for name, sql in rows:
        db.execute(f"DROP TRIGGER {name}")
        db.execute(sql.replace("AFTER INSERT ON tickets", "AFTER UPDATE OF imported_at ON tickets", 1))


@migrations(name="0007_settings_text")
def settings_text(db: Database) -> None:
    """Each project's recorded reading settings rewritten from JSON to `config.settings_text`.

    The same settings, in the text the import now compares (it no longer loads `json` for it): without
    this, the first import after the upgrade would read every file again for nothing.
    """
    import json

    from taskdist.config import settings_text as canonical

    rows = db.execute("SELECT name, reader_settings FROM projects WHERE reader_settings IS NOT NULL").fetchall()
    for name, text in rows:
        db.execute("UPDATE projects SET reader_settings = ? WHERE name = ?", [canonical(json.loads(text)), name])
