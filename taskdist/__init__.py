"""taskdist: a task distribution engine over a local SQLite ledger."""

__version__ = "0.1.0"
