"""Wall time, CPU time and the peak resident memory of a command's whole process tree (Dagster, its dbt subprocess
and DuckDB inside them): memory sampled from /proc, the sum over the tree, which is what the machine must hold; CPU
from the kernel's account of the finished tree, which other work on the machine does not inflate as it does the
wall time."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of pid and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
        todo += _children(p)
    return total


class Measured(NamedTuple):
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float  # user + system, of the command and every descendant it waited for


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_measured(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> Measured:
    """Run cmd to completion and measure it. Raises with the log's tail if it fails."""
    peak = 0
    with open(log, "w") as out:
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.2):
                peak = max(peak, tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    if code:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}); log {log}:\n{tail}")
    return Measured(elapsed, peak, _children_cpu_s() - cpu_before)
