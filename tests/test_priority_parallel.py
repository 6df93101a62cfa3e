"""The second-core output path (`taskdist.forked`) gives exactly the single-process bytes."""

from __future__ import annotations

import os
from pathlib import Path

from taskdist import forked


def test_write_in_child_writes_in_turn_and_covers_for_a_dead_child(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    parent = os.getpid()
    with target.open("wb") as sink:
        fd = sink.fileno()
        second = forked.write_in_child(lambda: b"second;", fd)
        os.write(fd, b"first;")
        second()

        def dying() -> bytes:
            if os.getpid() != parent:
                os._exit(5)
            return b"third (written here);"

        third = forked.write_in_child(dying, fd)
        third()
    assert target.read_bytes() == b"first;second;third (written here);"
