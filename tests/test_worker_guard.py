"""The parse workers' plumbing: the pipe their results come back through is widened where it can be."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from taskdist import worker_guard
from taskdist.worker_guard import widen_result_pipe

fcntl = pytest.importorskip("fcntl", reason="pipes are resized with fcntl, which this system lacks")
LINUX_PIPES = sys.platform.startswith("linux") and hasattr(fcntl, "F_GETPIPE_SZ")


@pytest.mark.skipif(not LINUX_PIPES, reason="only Linux resizes pipes (F_SETPIPE_SZ)")
def test_the_result_pipe_of_a_pool_is_widened_and_the_pool_still_works() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        writer = pool._result_queue._writer  # type: ignore[attr-defined]
        before = fcntl.fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ)
        size = widen_result_pipe(pool)
        assert size >= min(worker_guard.RESULT_PIPE_BYTES) > before
        assert fcntl.fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ) == size
        # A result bigger than the old pipe comes back whole.
        assert pool.submit("x".__mul__, 3 * before).result() == "x" * (3 * before)


def test_without_the_private_queue_nothing_is_touched() -> None:
    assert widen_result_pipe(object()) == 0


@pytest.mark.skipif(not LINUX_PIPES, reason="only Linux resizes pipes (F_SETPIPE_SZ)")
def test_a_refused_resize_leaves_the_pipe_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fcntl = fcntl.fcntl
    asked: list[int] = []

    def refuse_resizing(fd: int, command: int, argument: int = 0) -> int:
        if command == fcntl.F_SETPIPE_SZ:
            asked.append(argument)
            raise PermissionError(1, "Operation not permitted")  # over /proc/sys/fs/pipe-max-size
        return int(real_fcntl(fd, command, argument))

    monkeypatch.setattr(fcntl, "fcntl", refuse_resizing)
    with ProcessPoolExecutor(max_workers=1) as pool:
        writer = pool._result_queue._writer  # type: ignore[attr-defined]
        before = real_fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ)
        assert widen_result_pipe(pool) == 0
        assert asked == list(worker_guard.RESULT_PIPE_BYTES)  # every size tried, largest first
        assert real_fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ) == before
        assert pool.submit(abs, -2).result() == 2
