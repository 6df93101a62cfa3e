"""`taskdist init`: write a commented `taskdist.yaml` and create the ledger beside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taskdist.config import CONFIG_NAME, LEDGER_DIR, LEDGER_NAME, default_config_text, load_config
from taskdist.errors import UsageError
from taskdist.ledger.db import open_ledger


@dataclass(frozen=True, slots=True)
class InitResult:
    config_path: Path
    db_path: Path
    wrote_config: bool


def initialize(folder: Path, sources: list[str], roster: str | None, force: bool, db_path: Path | None) -> InitResult:
    """Write `taskdist.yaml` in `folder` (unless it exists and not `force`) and create the ledger."""
    config_path = folder / CONFIG_NAME
    wrote = False
    if config_path.exists() and not force:
        load_config(config_path)  # still validate what is there
    else:
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
        for source in sources:
            if not (folder / source).exists():
                raise UsageError(f"source {source!r} does not exist under {folder}")
        temporary = config_path.with_suffix(".yaml.tmp")
        temporary.write_text(default_config_text(sources, roster), encoding="utf-8")
        os.replace(temporary, config_path)
        wrote = True
        load_config(config_path)
    ledger_path = db_path or folder / LEDGER_DIR / LEDGER_NAME
    ledger = open_ledger(ledger_path, create=True)
    ledger.close()
    return InitResult(config_path=config_path, db_path=ledger_path, wrote_config=wrote)
