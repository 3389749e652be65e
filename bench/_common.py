"""How busy the machine is, shared by the benchmarks.

Other engineers' test runs share this two-core machine, and torch and llama.cpp busy-wait in
their thread pools: a run taken while another process holds a core can be several times slower
than the next. So every benchmark notes the share of the CPUs that *other* processes took while
it measured (from ``/proc``), and can wait for idle CPUs first. The benchmarks that drive a
server in a child process count that process's CPU time as their own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

IDLE = 0.1  # below this share of all CPUs busy, the machine counts as idle

#: what the generation benchmarks ask (client ``i`` asks ``QUESTIONS[i % 16]``)
QUESTIONS = [
    "Write a long story about a dragon who learns to bake bread.",
    "Explain how a bicycle stays upright.",
    "Describe a walk through a forest in autumn.",
    "What should a beginner know about growing tomatoes?",
    "Tell me about the history of the printing press.",
    "Why is the sky blue? Explain it to a child.",
    "Write a letter from a lighthouse keeper to his sister.",
    "Describe how bread rises.",
    "What are good habits for studying a new language?",
    "Tell a story about a robot who wants to paint.",
    "Explain what a volcano is and how it forms.",
    "Describe a busy market in the morning.",
    "How do bees make honey?",
    "Write a short fable about a fox and a crow.",
    "Explain how rain forms.",
    "Describe the life of a sailor on an old ship.",
]


def process_ticks(pid: int | str = "self") -> int:
    """CPU ticks (user + system, all threads) a process has spent; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def jiffies(pids: Iterable[int] = ()) -> tuple[int, int]:
    """(CPU ticks all processes spent busy, ticks this process and ``pids`` spent)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    own = process_ticks() + sum(process_ticks(pid) for pid in pids)
    return sum(ticks[:3]) + sum(ticks[5:8]), own


def foreign_share(before: tuple[int, int], after: tuple[int, int], seconds: float) -> float:
    """Share of all CPUs (0..1) others used between two :func:`jiffies` readings."""
    capacity = os.sysconf("SC_CLK_TCK") * seconds * (os.cpu_count() or 1)
    return min(1.0, max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / capacity))


def busy_share(seconds: float = 0.5, pids: Iterable[int] = ()) -> float:
    """Share of all CPUs others use over the next ``seconds`` (a sample, for reports)."""
    pids = list(pids)
    before = jiffies(pids)
    time.sleep(seconds)
    return foreign_share(before, jiffies(pids), seconds)


def wait_idle(limit: float) -> bool:
    """Wait up to ``limit`` seconds for the CPUs to be >= 90% idle over half a second.

    Returns whether they were; a benchmark runs anyway after the limit and says so.
    """
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        busy, _ = jiffies()
        time.sleep(0.5)
        busy2, _ = jiffies()
        if (busy2 - busy) / (os.sysconf("SC_CLK_TCK") * 0.5 * (os.cpu_count() or 1)) < IDLE:
            return True
    return False


def machine_load(pids: Iterable[int] = ()) -> str:
    """One line for a report: load averages and what others take of the CPUs right now."""
    one, five, fifteen = os.getloadavg()
    share = busy_share(1.0, pids)
    return (
        f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min), "
        f"others {share:.0%} of {os.cpu_count()} CPUs over the last second"
    )
