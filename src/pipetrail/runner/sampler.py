"""Samples a job's process tree (CPU, memory, I/O, threads) at a fixed interval."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from pipetrail.model.clock import now_ms


@dataclass
class Sample:
    timestamp: int
    cpu_percent: float | None
    rss: int
    read_bytes: int
    write_bytes: int
    threads: int
    processes: int


class ProcessSampler(threading.Thread):
    """Calls ``on_sample`` every ``interval`` seconds until ``stop``."""

    def __init__(self, pid: int, interval: float, on_sample: Callable[[Sample], None]) -> None:
        super().__init__(name="pipetrail-sampler", daemon=True)
        self._pid = pid
        self._interval = interval
        self._on_sample = on_sample
        self._stopped = threading.Event()
        self._procs: dict[int, psutil.Process] = {}
        self.peak_rss = 0
        self.cpu_count = psutil.cpu_count() or 1

    def stop(self) -> None:
        self._stopped.set()
        self.join(5)

    def run(self) -> None:
        next_at = time.monotonic()
        first = True
        while not self._stopped.is_set():
            sample = self.sample(prime=first)
            first = False
            if sample is None:
                return
            self._on_sample(sample)
            next_at += self._interval
            self._stopped.wait(max(0.0, next_at - time.monotonic()))

    def sample(self, prime: bool = False) -> Sample | None:
        try:
            root = self._procs.get(self._pid) or psutil.Process(self._pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        current: dict[int, psutil.Process] = {}
        cpu = rss = read = write = threads = 0.0
        for proc in tree:
            known = self._procs.get(proc.pid, proc)
            try:
                with known.oneshot():
                    cpu += known.cpu_percent(None)
                    rss += known.memory_info().rss
                    threads += known.num_threads()
                    try:
                        io = known.io_counters()
                        read += io.read_bytes
                        write += io.write_bytes
                    except (psutil.AccessDenied, AttributeError):
                        pass
            except psutil.Error:
                continue
            current[proc.pid] = known
        self._procs = current
        self.peak_rss = max(self.peak_rss, int(rss))
        return Sample(timestamp=now_ms(), cpu_percent=None if prime else round(cpu, 2),
                      rss=int(rss), read_bytes=int(read), write_bytes=int(write),
                      threads=int(threads), processes=len(current))


def children_peak_rss() -> int:
    """Largest resident set of any waited-for child, in bytes (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def leftover_processes() -> list[psutil.Process]:
    """This process's descendants (grandchildren reparent here: we are a subreaper)."""
    try:
        return list(psutil.Process(os.getpid()).children(recursive=True))
    except psutil.Error:
        return []
