"""Generators of hostile and broken ticket files for the hostile-input tests (written to tmp, never committed).

Each case writes its files into a folder and says what the import report must show for each file:
"error" (refused with a reason), "warning" (imported, with a reason) or "good" (imported as usual), and
a fragment every such reason contains. `write_hostile` writes them all into one folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile case: the files it made, the verdict for each, a reason fragment, and ids it imports."""

    name: str
    paths: tuple[Path, ...]
    verdict: str  # error | warning | good
    reason: str = ""  # a fragment of every reason reported for these files (compared in lower case)
    ticket_ids: tuple[str, ...] = ()


def ticket(ticket_id: str, title: str = "a good ticket", extra: str = "", body: str = "Body text.\n") -> str:
    """An ordinary ticket file (dialect B-ish: `id` and friends)."""
    return f"---\nid: {ticket_id}\ntitle: {title}\nstatus: open\npriority: high\n{extra}---\n\n# {title}\n\n{body}"


def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """Billion laughs: each level lists the previous one `fan` times (fan ** levels leaves, 80 aliases)."""
    lines = ["id: BOMB-1", "title: alias bomb", f"a0: &a0 [{', '.join(['lol'] * fan)}]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * fan)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "---\n" + "\n".join(lines) + "\n---\nbody\n"


def merge_bomb(levels: int = 30) -> str:
    """Merge keys repeating an aliased mapping: PyYAML's constructor copies 3 ** levels entries (87 aliases)."""
    lines = ["id: MERGE-1", "title: merge-key bomb", "m0: &m0 {a: 1, b: 2}"]
    for level in range(1, levels):
        ref = f"*m{level - 1}"
        lines.append(f"m{level}: &m{level} {{<<: [{ref}, {ref}, {ref}], k{level}: {level}}}")
    return "---\n" + "\n".join(lines) + "\n---\nbody\n"


Writer = Callable[[Path], Case]
CASES: dict[str, Writer] = {}


def case(writer: Writer) -> Writer:
    CASES[writer.__name__.strip("_").replace("_", "-")] = writer
    return writer


def _file(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@case
def _alias_bomb(folder: Path) -> Case:
    return Case("alias-bomb", (_file(folder, "alias-bomb.md", alias_bomb()),), "error", "limits.max_yaml_nodes")


@case
def _merge_bomb(folder: Path) -> Case:
    return Case("merge-bomb", (_file(folder, "merge-bomb.md", merge_bomb()),), "error", "limits.max_yaml_nodes")


@case
def _recursive_alias(folder: Path) -> Case:
    path = _file(folder, "recursive-alias.md", "---\nid: REC-1\nloop: &a [1, *a]\n---\n")
    return Case("recursive-alias", (path,), "error", "refers to itself")


@case
def _big_50mb(folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "big-50mb.md"
    with open(path, "wb") as handle:
        handle.write(ticket("BIG-1", "huge").encode())
        chunk = b"lorem ipsum dolor sit amet " * 4096
        while handle.tell() < 50 * MB:
            handle.write(chunk)
    return Case("big-50mb", (path,), "error", "limits.max_file_bytes")


@case
def _sparse_10gb(folder: Path) -> Case:
    # 10 GB that take no disk space (a sparse file): reading it whole would exhaust memory.
    path = _file(folder, "sparse-10gb.md", ticket("SPARSE-1", "sparse"))
    with open(path, "r+b") as handle:
        handle.truncate(10 * 1024 * MB)
    return Case("sparse-10gb", (path,), "error", "limits.max_file_bytes")


@case
def _deep_flow(folder: Path) -> Case:
    depth = 10_000
    path = _file(folder, "deep-flow.md", f"---\nid: DEEP-1\nx: {'[' * depth}{']' * depth}\n---\n")
    return Case("deep-flow", (path,), "error", "limits.max_yaml_depth")


@case
def _deep_block(folder: Path) -> Case:
    # `- - - ... leaf`: 10,000 nested block sequences on one line (libyaml's composer would overflow
    # the C stack past about 20,000, so a deeper one must never reach it).
    path = _file(folder, "deep-block.md", f"---\nid: DEEP-2\nx:\n  {'- ' * 10_000}leaf\n---\n")
    return Case("deep-block", (path,), "error", "limits.max_yaml_depth")


@case
def _deep_block_huge(folder: Path) -> Case:
    path = _file(folder, "deep-block-huge.md", f"---\nid: DEEP-4\nx:\n  {'- ' * 450_000}leaf\n---\n")
    return Case("deep-block-huge", (path,), "error", "limits.max_yaml_depth")


@case
def _deep_indent(folder: Path) -> Case:
    # Indentation nesting costs depth squared bytes: 1,000 levels is about as deep as 1 MB allows.
    indented = "".join(" " * i + f"k{i}:\n" for i in range(1, 1_000)) + " " * 1_000 + "leaf: 1\n"
    path = _file(folder, "deep-indent.md", f"---\nid: DEEP-3\nx:\n{indented}---\n")
    return Case("deep-indent", (path,), "error", "limits.max_yaml_depth")


@case
def _binary(folder: Path) -> Case:
    path = _file(folder, "binary.md", b"---\nid: BIN-1\n---\n\x00\x01\x02\xff\xfe" + bytes(range(256)) * 8)
    return Case("binary", (path,), "error", "binary content")


@case
def _latin1(folder: Path) -> Case:
    path = _file(folder, "latin1.md", ticket("LAT-1", "Caf\xe9 cr\xe8me").encode("latin-1"))
    return Case("latin1", (path,), "warning", "latin-1", ("LAT-1",))


@case
def _bom(folder: Path) -> Case:
    path = _file(folder, "bom.md", "\ufeff" + ticket("BOM-1", "byte order mark"))
    return Case("bom", (path,), "good", "", ("BOM-1",))


@case
def _crlf(folder: Path) -> Case:
    path = _file(folder, "crlf.md", ticket("CRLF-1", "windows line ends").replace("\n", "\r\n"))
    return Case("crlf", (path,), "good", "", ("CRLF-1",))


@case
def _empty(folder: Path) -> Case:
    return Case("empty", (_file(folder, "empty.md", b""),), "error", "not a ticket")


@case
def _unclosed(folder: Path) -> Case:
    path = _file(folder, "unclosed.md", "---\nid: OPEN-1\ntitle: never closed\n\nbody\n")
    return Case("unclosed", (path,), "error", "never closed")


@case
def _python_object(folder: Path) -> Case:
    path = _file(folder, "python-object.md", "---\nid: PY-1\nx: !!python/object:os.system {}\n---\n")
    return Case("python-object", (path,), "error", "python/object")


@case
def _python_apply(folder: Path) -> Case:
    text = "---\nid: PY-2\nx: !!python/object/apply:os.system ['touch taskdist-was-pwned']\n---\n"
    return Case("python-apply", (_file(folder, "python-apply.md", text),), "error", "python/object/apply")


@case
def _many_deps(folder: Path) -> Case:
    # Flow style keeps 100,000 references inside the default frontmatter size limit.
    deps = ", ".join(f"D-{n}" for n in range(100_000))
    path = _file(folder, "many-deps.md", ticket("MANY-1", "many dependencies", f"dependencies: [{deps}]\n"))
    return Case("many-deps", (path,), "warning", "limits.max_relations", ("MANY-1",))


@case
def _case_ids(folder: Path) -> Case:
    upper = _file(folder, "case-upper.md", ticket("CASE-1", "upper case id"))
    lower = _file(folder, "case-lower.md", ticket("case-1", "lower case id"))
    return Case("case-ids", (upper, lower), "warning", "differs only in case", ("CASE-1", "case-1"))


@case
def _spaces(folder: Path) -> Case:
    path = _file(folder, "with spaces in the name.md", ticket("SPACE-1", "spaces in the path"))
    return Case("spaces", (path,), "good", "", ("SPACE-1",))


@case
def _non_ascii(folder: Path) -> Case:
    path = _file(folder, "ünïcødé – 名前/tâche ✓.md", ticket("UNI-1", "non-ASCII path"))
    return Case("non-ascii", (path,), "good", "", ("UNI-1",))


@case
def _undecodable_name(folder: Path) -> Case:
    # Linux allows any bytes but '/' and NUL in a name; this one is not UTF-8.
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.fsencode(folder) + b"/bad-\xff\xfe-name.md"
    with open(raw, "wb") as handle:
        handle.write(ticket("RAWNAME-1", "undecodable file name").encode())
    shown = Path(os.fsdecode(raw).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
    return Case("undecodable-name", (shown,), "error", "not valid utf-8")


@case
def _self_loop(folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "self-loop.md"
    os.symlink(path.name, path)
    return Case("self-loop", (path,), "error", "symbolic link loop")


@case
def _pair_loop(folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink("pair-b.md", folder / "pair-a.md")
    os.symlink("pair-a.md", folder / "pair-b.md")
    return Case("pair-loop", (folder / "pair-a.md", folder / "pair-b.md"), "error", "symbolic link loop")


@case
def _folder_loop(folder: Path) -> Case:
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    os.symlink("..", folder / "sub" / "up")
    return Case("folder-loop", (folder / "sub" / "up",), "error", "symbolic link loop")


@case
def _dangling(folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink("no-such-target.md", folder / "dangling.md")
    return Case("dangling", (folder / "dangling.md",), "error", "broken symbolic link")


@case
def _named_pipe(folder: Path) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.md")
    return Case("named-pipe", (folder / "pipe.md",), "error", "not a regular file")


@case
def _unreadable(folder: Path) -> Case:
    path = _file(folder, "unreadable.md", ticket("LOCK-1", "no read permission"))
    path.chmod(0)
    if os.geteuid() == 0:
        # Root reads any file whatever its permission bits: then this is an ordinary ticket.
        return Case("unreadable", (path,), "good", "", ("LOCK-1",))
    return Case("unreadable", (path,), "error", "permission denied")


@case
def _list_frontmatter(folder: Path) -> Case:
    path = _file(folder, "list-frontmatter.md", "---\n- a\n- b\n---\n")
    return Case("list-frontmatter", (path,), "error", "not a mapping")


@case
def _impossible_dates(folder: Path) -> Case:
    extra = "due_date: 2024-13-45\ncreated: 2024-02-30 25:61:00\nupdated: 0001-01-01\n"
    path = _file(folder, "impossible-dates.md", ticket("DATE-1", "impossible dates", extra))
    return Case("impossible-dates", (path,), "good", "", ("DATE-1",))


@case
def _huge_numbers(folder: Path) -> Case:
    extra = (
        f"estimated_hours: {'9' * 5000}\npriority_score: 0x{'f' * 5000}\nsexagesimal: 1{':1' * 20000}\n"
        f"story_points: {'9' * 400}.5e99999\nrevenue: 1e999\n"
    )
    path = _file(folder, "huge-numbers.md", ticket("NUM-1", "huge numbers", extra))
    return Case("huge-numbers", (path,), "good", "", ("NUM-1",))


@case
def _tab_indent(folder: Path) -> Case:
    path = _file(folder, "tab-indent.md", "---\nid: TAB-1\n\tbad: indent\n---\n")
    return Case("tab-indent", (path,), "error", "invalid yaml")


@case
def _deep_folders(folder: Path) -> Case:
    nested = folder
    for level in range(70):
        nested = nested / f"d{level}"
    nested.mkdir(parents=True)
    (nested / "too-deep.md").write_text(ticket("NEST-1"), encoding="utf-8")
    refused = folder.joinpath(*(f"d{level}" for level in range(65)))
    return Case("deep-folders", (refused,), "error", "limits.max_dir_depth")


# Inputs that made our own patterns backtrack quadratically (hours at these sizes, before the fixes).


@case
def _at_repair_trap(folder: Path) -> Case:
    # The `@` value repair runs over 90,000 lines without a colon; the repaired text is still invalid.
    lines = "id: TRAP-1\nowner: @someone\n" + "bbbbbbbbbb\n" * 90_000
    return Case("at-repair-trap", (_file(folder, "at-trap.md", f"---\n{lines}---\n"),), "error", "invalid yaml")


@case
def _relation_trap(folder: Path) -> Case:
    extra = f"depends_on: '{'a-' * 300_000} x'\n"
    path = _file(folder, "relation-trap.md", ticket("TRAP-2", "relation string", extra))
    return Case("relation-trap", (path,), "good", "", ("TRAP-2",))


@case
def _fence_trap(folder: Path) -> Case:
    path = _file(folder, "fence-trap.md", ticket("TRAP-3", "backtick fence", body="`" * 1_000_000))
    return Case("fence-trap", (path,), "good", "", ("TRAP-3",))


@case
def _bold_field_trap(folder: Path) -> Case:
    # A legacy file (no frontmatter, id from the name): `**Status**:` and `## Priority:` lines with a
    # long run of blanks inside the value.
    body = f"**Status**: open{' ' * 19_000}x\n## Priority: high{' ' * 19_000}y\n"
    path = _file(folder, "T-900-bold-trap.md", body)
    return Case("bold-field-trap", (path,), "good", "", ("T-900",))


def write_hostile(folder: Path) -> list[Case]:
    """Write every hostile case into `folder`; return what each must produce."""
    folder.mkdir(parents=True, exist_ok=True)
    return [writer(folder) for writer in CASES.values()]


def write_good(folder: Path, count: int, prefix: str = "GOOD") -> list[str]:
    """`count` ordinary tickets; returns their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for n in range(count):
        ticket_id = f"{prefix}-{n}"
        (folder / f"{ticket_id}.md").write_text(
            ticket(ticket_id, f"good ticket {n}", "assignee: alex\nestimated_hours: 3\n", "- [x] one\n- [ ] two\n"),
            encoding="utf-8",
        )
        ids.append(ticket_id)
    return ids
