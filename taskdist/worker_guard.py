"""Start-up of a parse worker process: it must not outlive the import that started it.

A `ProcessPoolExecutor` worker waits on a queue whose pipe every worker also holds open, so when the
importing process is killed (SIGKILL, the OOM killer, a closed terminal) the workers never see the
end of their input and would sleep forever as orphans. Each worker therefore watches its parent and
exits as soon as it is gone.
"""

from __future__ import annotations

import gc
import os
import threading

POLL_SECONDS = 0.5


def start_worker(parent: int) -> None:
    """Pool initializer (`initargs=(os.getpid(),)` from the importing process): turn the garbage
    collector back on (only the importing process pauses it) and watch that process.

    The parent's id comes from the parent: read here with `getppid()`, it would already be init's if
    the parent died before this worker started, and the worker would never notice.
    """
    gc.enable()
    watch = threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True)
    watch.start()


def _exit_when_orphaned(parent: int) -> None:
    # When the parent dies the worker is re-parented (to init or a subreaper): its parent id changes.
    while os.getppid() == parent:
        threading.Event().wait(POLL_SECONDS)
    os._exit(1)
