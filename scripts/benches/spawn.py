"""Run one command and report its wall time and peak memory: `spawn.py RESULT_FILE COMMAND...`.

Why a separate small process: Linux carries a process's peak RSS across `exec` from the memory it
was forked with, so a command started straight from the bench (hundreds of MB once numpy, scipy
and a dense matrix are loaded) would report at least the bench's own size. Started from this small
process it reports its own. Writes `{"seconds": wall, "rss_kb": ru_maxrss, "status": exit code}`
to RESULT_FILE and exits with the command's exit code.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    result, argv = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    # wait4 gives this child's own rusage: ru_maxrss (KB on Linux) is the largest of the command and
    # every child it waited for (import workers, forked writers), not their sum.
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as out:
        json.dump({"seconds": seconds, "rss_kb": usage.ru_maxrss, "status": code}, out)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
