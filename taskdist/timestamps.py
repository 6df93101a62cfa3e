"""The ledger's one text form for moments, `YYYY-MM-DDTHH:MM:SSZ`, and its inverse.

A module of its own, importing nothing of taskdist, because the ledger code needs it on every run
and the normalisers (which need the models) only when a file is read.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_datetime(value: datetime | None) -> str | None:
    """The ledger's one datetime text form: `YYYY-MM-DDTHH:MM:SSZ`, sortable as text."""
    if value is None:
        return None
    # Not strftime: its %Y does not pad years before 1000 (`due: 0001-01-01`), which would not parse back.
    moment = value if value.tzinfo is UTC else value.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def parse_stored_datetime(text: str | None) -> datetime | None:
    """Inverse of `format_datetime`."""
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
