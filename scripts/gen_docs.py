"""Generate docs/cli.md (from the typer app) and docs/schema.md (from a fresh ledger's schema).

`--check` exits 1 when the checked-in files differ from what the code generates, so CI catches drift.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer.main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from taskdist.cli.commands import app  # noqa: E402
from taskdist.ledger.db import open_ledger  # noqa: E402


def _param_line(param: Any) -> str:
    # typer vendors its own click: work with the objects by their attributes.
    if param.param_type_name == "argument":
        name = (param.metavar or param.name or "").upper()
        return f"- `{name}`{' (repeatable)' if param.nargs == -1 else ''}: argument"
    names = ", ".join(f"`{n}`" for n in param.opts)
    help_text = " ".join((param.help or "").split())
    default = ""
    if param.default not in (None, False, ()) and not param.is_flag:
        default = f" (default: `{param.default}`)"
    env = f" (env `{param.envvar}`)" if param.envvar else ""
    return f"- {names}: {help_text}{default}{env}"


def cli_reference() -> str:
    group: Any = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the code by `make docs` (`scripts/gen_docs.py`); CI fails when it is stale.",
        "",
    ]
    ctx = typer.main.get_command(app).make_context("taskdist", ["--help"], resilient_parsing=True)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        lines += [f"## `taskdist {name}`", "", " ".join((command.help or "").split()), ""]
        if hasattr(command, "list_commands"):
            for sub in command.list_commands(ctx):
                lines.append(f"- `taskdist {name} {sub}`")
            lines.append("")
        params = [p for p in command.params if p.name != "help"]
        lines += [_param_line(p) for p in params]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def schema_reference() -> str:
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(Path(folder) / "ledger.db", create=True)
        rows = ledger.conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
        ).fetchall()
        migrations = [r[0] for r in ledger.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        ledger.close()
    lines = [
        "# Ledger schema",
        "",
        "Generated from the migrations by `make docs` (`scripts/gen_docs.py`); CI fails when it is stale.",
        "",
        "Migrations applied to a new ledger, in order: " + ", ".join(f"`{m}`" for m in migrations) + ".",
        "",
    ]
    for kind, name, sql in rows:
        lines += [f"## {kind} `{name}`", "", "```sql", sql.strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the checked-in docs are stale")
    args = parser.parse_args()
    outputs = {ROOT / "docs" / "cli.md": cli_reference(), ROOT / "docs" / "schema.md": schema_reference()}
    stale = []
    for path, content in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            if args.check:
                stale.append(path.relative_to(ROOT))
            else:
                path.write_text(content, encoding="utf-8")
                print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale generated docs: {', '.join(map(str, stale))}; run `make docs` and commit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
