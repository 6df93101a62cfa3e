"""The SQLite ledger: the only package that speaks SQL. See docs/schema.md (generated) for the tables."""

from taskdist.ledger.db import Ledger, open_ledger

__all__ = ["Ledger", "open_ledger"]
