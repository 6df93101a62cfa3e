"""Output machinery shared by every report: tables for people, JSON and CSV for scripts.

This package is the only place that imports rich. Text that comes from ticket files goes through
`safe()` and into rich `Text` objects (never markup strings), so `[bold red]` in a title prints as
those characters and a terminal escape sequence prints as visible `\\x1b` text: ticket content can
neither style nor control the terminal.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

from taskdist.json_quote import quote_ascii as _quote
from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, TextIO

    from rich.console import Console, RenderableType
    from rich.table import Table

FORMATS = ("table", "json", "csv")
# The styles of the plain-line reports, as SGR parameters; the colours among them drop under NO_COLOR.
_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33"}
_COLOURS = frozenset({"red", "yellow"})
# C0 controls except tab/newline, DEL, and C1 controls (0x80-0x9f: CSI, OSC... in 8-bit form), each
# to its visible `\xNN` (a translation table, not a regular expression: `re` stays out of a re-import).
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def safe(value: Any, *, single_line: bool = True) -> str:
    """Text safe to print: control characters become visible `\\xNN`; newlines folded when asked."""
    text = "" if value is None else str(value)
    if text.isprintable():  # no control character at all (nor tab or newline): the usual case, in C
        return text
    text = text.translate(_CONTROL_ESCAPES)
    if single_line:
        text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text


def safe_json(value: Any) -> Any:
    """Strings inside a JSON document made safe the same way (json.dumps keeps C1 bytes otherwise)."""
    if isinstance(value, str):
        return safe(value, single_line=False)
    if isinstance(value, dict):
        return {safe(k): safe_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_json(v) for v in value]
    return value


def json_document(value: Any) -> str:
    """`json.dumps(safe_json(value), indent=2, default=str)`, the same text, in one pass, about twice as fast.

    Python 3.11's json indents in pure Python, chunk by chunk through nested generators; here every
    string still goes through json's own C quoting (ASCII only), and `safe()` on the way.
    """
    parts: list[str] = []
    _put_json(value, parts, "\n")
    return "".join(parts)


def _put_json(value: Any, parts: list[str], newline: str) -> None:
    # json.dumps's order of checks: str, None, True, False, int, float, list/tuple, dict, then default.
    if isinstance(value, str):
        text = value if value.__class__ is str else str(value)  # as safe_json: a str subclass by its str()
        parts.append(_quote(text if text.isprintable() else safe(text, single_line=False)))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float_text(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            parts.append("{}" if isinstance(value, dict) else "[]")
            return
        inner = newline + "  "
        if isinstance(value, dict):
            items = value.items()
            if not all(key.__class__ is str and key.isprintable() for key in value):
                # As safe_json: keys that read the same once made safe are one key, the last value wins.
                items = {safe(key): item for key, item in items}.items()
            separator = "{" + inner
            for key, item in items:
                if item.__class__ is str and item.isprintable():  # most values: no call for them
                    parts.append(f"{separator}{_quote(key)}: {_quote(item)}")
                else:
                    parts.append(f"{separator}{_quote(key)}: ")
                    _put_json(item, parts, inner)
                separator = "," + inner
            parts.append(newline + "}")
        else:
            separator = "[" + inner
            for item in value:
                parts.append(separator)
                _put_json(item, parts, inner)
                separator = "," + inner
            parts.append(newline + "]")
    else:
        parts.append(_quote(str(value)))  # default=str; safe_json leaves such values to it, unchanged


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


class Output:
    """Where a command writes: the chosen format, stdout for results, stderr for notes and progress."""

    def __init__(
        self, fmt: str = "table", quiet: bool = False, export: str | None = None, width: int | None = None
    ) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.export = export
        self.width = width
        self._recorded: list[Any] = []

    def console(self, stderr: bool = False) -> Console:
        from rich.console import Console

        if stderr:
            return Console(stderr=True, highlight=False, soft_wrap=False)
        return Console(highlight=False, record=self.export is not None, width=self.width)

    def print(self, *renderables: RenderableType) -> None:
        """Print rich renderables to stdout (and keep them for --export)."""
        console = self.console()
        for renderable in renderables:
            console.print(renderable)
        if self.export:
            self._recorded.extend(renderables)

    def lines(self, lines: Sequence[tuple[str, str]]) -> None:
        """Print (text, style) lines to stdout without loading rich (a report read on every re-import).

        The text must already be `safe()`. Styles are those of `_SGR`, applied when rich would style
        stdout (see `styling`); with --export the lines go through rich so that they are recorded too.
        """
        if self.export:
            self.print(*(text(line, style) for line, style in lines))
            return
        styled, coloured = styling(sys.stdout, os.environ)
        out = []
        for line, style in lines:
            if styled and style and (coloured or style not in _COLOURS):
                line = f"\x1b[{_SGR[style]}m{line}\x1b[0m"
            out.append(line + "\n")
        sys.stdout.write("".join(out))

    def note(self, message: str, style: str = "dim") -> None:
        """A note for people on stderr (never mixed into JSON or CSV on stdout)."""
        if self.quiet:
            return
        from rich.text import Text

        self.console(stderr=True).print(Text(safe(message, single_line=False), style=style))

    def json(self, data: Any) -> None:
        sys.stdout.write(json_document(data) + "\n")

    def csv(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
        sys.stdout.write(buffer.getvalue())

    def finish(self) -> None:
        """Write the --export file (SVG or HTML) from what was printed."""
        if not self.export:
            return
        from rich.console import Console

        recorder = Console(record=True, width=self.width or 100, file=io.StringIO(), highlight=False)
        for renderable in self._recorded:
            recorder.print(renderable)
        if self.export.lower().endswith(".svg"):
            recorder.save_svg(self.export, title="taskdist")
        else:
            recorder.save_html(self.export)


def styling(stream: TextIO, environ: Mapping[str, str]) -> tuple[bool, bool]:
    """Whether rich would style `stream`, and whether with colours: the same reading of the terminal.

    Styled on a terminal (TTY_COMPATIBLE=1/0 and FORCE_COLOR decide first, as in rich) that is not
    dumb; colours dropped when NO_COLOR is set, bold and dim kept. A test holds this to rich's verdict.
    """
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        terminal = compatible == "1"
    elif environ.get("FORCE_COLOR") is not None:
        terminal = environ["FORCE_COLOR"] != ""
    else:
        try:
            terminal = stream.isatty()
        except ValueError:  # a closed stream is no terminal
            terminal = False
    styled = terminal and environ.get("TERM", "").lower() not in ("dumb", "unknown")
    return styled, styled and environ.get("NO_COLOR", "") == ""


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(safe(v) for v in value)
    if isinstance(value, dict):
        import json  # only CSV cells need it: a re-import's report must not load json's decoder

        return json.dumps(safe_json(value), sort_keys=True)
    if isinstance(value, float):
        return f"{value:.6g}"
    return safe(value)


def text(value: Any, style: str = "") -> Any:
    """A rich Text holding `value` literally (no markup interpretation), sanitised."""
    from rich.text import Text

    return Text(safe(value), style=style)


def new_table(title: str | None, columns: Sequence[tuple[str, dict[str, Any]]]) -> Table:
    """A table in the house style; the title is literal text (titles name projects and tickets)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    heading = Text(safe(title), style="table.title") if title is not None else None
    table = Table(title=heading, box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold", expand=False)
    for name, options in columns:
        table.add_column(name, **options)
    return table


def emit(
    out: Output,
    data: Any,
    columns: Sequence[str],
    rows: Callable[[], Iterable[Sequence[Any]]],
    table: Callable[[], RenderableType],
) -> None:
    """Render one report in the chosen format from its JSON data, flat rows, and a rich builder."""
    if out.fmt == "json":
        out.json(data)
    elif out.fmt == "csv":
        out.csv(columns, rows())
    else:
        out.print(table())
