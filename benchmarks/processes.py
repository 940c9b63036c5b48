"""The memory of a crawl and all the processes it started, read from /proc (Linux only).

A browser crawl is a tree: the `scrapy crawl` process, Playwright's driver (node) under it, and
Chromium's browser, zygote, renderer and utility processes under that. A `TreeSample` sums the memory
of the whole tree at one moment, two ways: VmRSS (resident pages, so a page shared by two processes,
such as Chromium's code, counts twice) and Pss from /proc/PID/smaps_rollup (each shared page divided
among the processes sharing it, so the sum is the tree's real share of RAM). Processes are read one
after another, so a sample is not atomic; a process that exits while being read counts as 0.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Command-name prefixes (/proc/PID/stat, at most 15 characters), tried in order; else "other".
KINDS = (("chrom", "chromium"), ("node", "driver"), ("python", "scrapy"))

#: A process known by its pid and its start time (in clock ticks since boot), so that a pid reused
#: by a later process is not taken for the one seen before.
Identity = tuple[int, int]


@dataclass(frozen=True)
class Process:
    """What /proc/PID/stat says of a process: its parent, command name, state and start time."""

    pid: int
    parent: int
    name: str
    state: str
    started: int

    @property
    def kind(self) -> str:
        """chromium, driver (Playwright's node), scrapy or other."""
        name = self.name.lower()
        return next((label for prefix, label in KINDS if name.startswith(prefix)), "other")

    @property
    def identity(self) -> Identity:
        return self.pid, self.started


@dataclass
class TreeSample:
    """Memory of one process tree at one moment, in bytes; `pss` is None when not taken or unreadable."""

    rss: int
    pss: int | None
    rss_by_kind: dict[str, int] = field(default_factory=dict)
    pss_by_kind: dict[str, int] = field(default_factory=dict)
    processes: int = 0


def _read(path: str) -> str | None:
    """A /proc file's text; None when the process is gone (or the file cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def _process(pid: int) -> Process | None:
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    # "PID (NAME) STATE PARENT …": the name may hold spaces and parentheses, so split at the last ")"
    head, tail = text.rsplit(")", 1)
    fields = tail.split()
    return Process(pid, int(fields[1]), head.split("(", 1)[1], fields[0], int(fields[19]))


def process_table() -> dict[int, Process]:
    """Every live process, by pid."""
    table = {}
    for entry in os.listdir("/proc"):
        found = _process(int(entry)) if entry.isdigit() else None
        if found:
            table[found.pid] = found
    return table


def descendants(pid: int, table: dict[int, Process]) -> list[Process]:
    """The process `pid` and every process below it in `table` (empty when `pid` is gone)."""
    children: dict[int, list[Process]] = {}
    for process in table.values():
        children.setdefault(process.parent, []).append(process)
    tree = [table[pid]] if pid in table else []
    for process in tree:  # grows while it is walked: breadth first
        tree.extend(children.get(process.pid, ()))
    return tree


def _kib_field(text: str | None, name: str) -> int:
    """The value of a "Name:   123 kB" line, in bytes; 0 when there is none (a zombie, a gone process)."""
    for line in (text or "").splitlines():
        if line.startswith(name):
            return int(line.split()[1]) * 1024
    return 0


def rss(pid: int) -> int:
    """VmRSS of a process in bytes (0 when it is gone, a zombie, or a kernel thread)."""
    return _kib_field(_read(f"/proc/{pid}/status"), "VmRSS:")


def pss(pid: int) -> int | None:
    """Pss of a process in bytes from smaps_rollup: 0 when it is gone, None when it may not be read.

    Costly: the kernel walks the process's page tables, 1-20 ms for each Chromium process.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as file:
            return _kib_field(file.read(), "Pss:")
    except PermissionError:
        return None
    except OSError:
        return 0


def sample(tree: Iterable[Process], with_pss: bool = True) -> TreeSample:
    """Sum the memory of the processes of `tree`, in total and by kind; Pss only `with_pss`."""
    result = TreeSample(rss=0, pss=0 if with_pss else None)
    for process in tree:
        resident = rss(process.pid)
        result.processes += 1
        result.rss += resident
        result.rss_by_kind[process.kind] = result.rss_by_kind.get(process.kind, 0) + resident
        proportional = pss(process.pid) if result.pss is not None else None
        if proportional is None:
            result.pss = None  # not taken, or one process unreadable: the sum would be wrong
            continue
        result.pss += proportional
        result.pss_by_kind[process.kind] = result.pss_by_kind.get(process.kind, 0) + proportional
    return result


def still_alive(seen: Iterable[Identity]) -> list[int]:
    """Pids of the processes in `seen` still running (the same processes, not reused pids; no zombies)."""
    alive = {p.identity for p in process_table().values() if p.state != "Z"}
    return [pid for pid, started in seen if (pid, started) in alive]


def with_marker(marker: str) -> list[int]:
    """Pids of live processes whose command line contains `marker` (`pgrep -f -- MARKER`).

    The `--` matters: a marker that starts with "--" would otherwise be read as an option by pgrep,
    which then prints its usage, finds nothing and so always "finds no process".
    """
    found = subprocess.run(["pgrep", "-f", "--", marker], capture_output=True, text=True, check=False)
    if found.returncode > 1:  # 0: found, 1: none found, anything else: pgrep failed
        raise RuntimeError(f"pgrep failed: {found.stderr.strip()}")
    return [int(pid) for pid in found.stdout.split()]
