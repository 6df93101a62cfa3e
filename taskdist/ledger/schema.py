"""Schema migrations (sqlite-utils `Migrations`); append new ones, never edit applied ones.

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
