"""Shipping a spool's batches to the server, oldest first, from a background thread.

Batches go in requests of up to ``MAX_REQUEST_RECORDS`` records and
``MAX_REQUEST_BYTES`` bytes; a batch leaves the spool only once the server answered
that it has it. While the server is unreachable, slow or refuses the token, the shipper
waits (0.1 s, doubling up to 5 s) and tries again; batches the server refuses as invalid
are set aside (``spool/rejected``). The runner never waits for any of it, except at the
end of the run, for at most ``drain`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipetrail.agent.client import AgentClient, Refused, Unreachable
from pipetrail.agent.spool import Segment, Spool

MAX_REQUEST_RECORDS = 5_000
MAX_REQUEST_BYTES = 4 * 1024 * 1024
LINGER_SECONDS = 0.05
BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


@dataclass
class Progress:
    delivered_batches: int = 0
    delivered_records: int = 0
    rejected_batches: int = 0
    failures: int = 0
    last_error: str | None = None
    rejected_to: list[str] = field(default_factory=list)


def deliver_once(spool: Spool, client: AgentClient, progress: Progress) -> bool:
    """Send the oldest batches once; True when they were delivered (or set aside),
    False when the server could not take them now (``progress.last_error`` says why)."""
    segments = spool.pending(MAX_REQUEST_RECORDS, MAX_REQUEST_BYTES)
    if not segments:
        return True
    try:
        client.post_batches(spool.run_id, spool.job_name, [spool.read(s) for s in segments])
    except Refused as exc:
        if len(segments) > 1:  # find the bad batch: send them one by one
            return all(_deliver_single(spool, client, progress, s) for s in segments)
        target = spool.reject(segments, str(exc))
        progress.rejected_batches += len(segments)
        progress.rejected_to.append(str(target))
        return True
    except Unreachable as exc:
        progress.failures += 1
        progress.last_error = str(exc)
        return False
    spool.remove(segments)
    progress.delivered_batches += len(segments)
    progress.delivered_records += sum(s.records for s in segments)
    return True


def _deliver_single(spool: Spool, client: AgentClient, progress: Progress,
                    segment: Segment) -> bool:
    try:
        client.post_batches(spool.run_id, spool.job_name, [spool.read(segment)])
    except Refused as exc:
        target = spool.reject([segment], str(exc))
        progress.rejected_batches += 1
        progress.rejected_to.append(str(target))
        return True
    except Unreachable as exc:
        progress.failures += 1
        progress.last_error = str(exc)
        return False
    spool.remove([segment])
    progress.delivered_batches += 1
    progress.delivered_records += segment.records
    return True


def drain(spool: Spool, client: AgentClient, progress: Progress, deadline: float,
          stop: Callable[[], bool] = lambda: False) -> bool:
    """Deliver until the spool is empty (True) or ``deadline`` (monotonic) passes."""
    attempt = 0
    while not spool.empty:
        if stop() or time.monotonic() >= deadline:
            return False
        if deliver_once(spool, client, progress):
            attempt = 0
            continue
        pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
        attempt += 1
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
    return True


class Shipper(threading.Thread):
    """Delivers a live spool while its run goes on."""

    def __init__(self, spool: Spool, client: AgentClient) -> None:
        super().__init__(name="pipetrail-shipper", daemon=True)
        self.spool = spool
        self.client = client
        self.progress = Progress()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._abandon = threading.Event()

    def notify(self) -> None:
        """New batches are in the spool."""
        self._wake.set()

    def run(self) -> None:
        attempt = 0
        while not self._abandon.is_set():
            if self.spool.empty:
                if self._closing.is_set():
                    return
                self._wake.wait(0.5)
                self._wake.clear()
                self._abandon.wait(LINGER_SECONDS)  # let a few more batches arrive
                continue
            if deliver_once(self.spool, self.client, self.progress):
                attempt = 0
                continue
            pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            self._abandon.wait(pause)

    def close(self, drain_seconds: float) -> bool:
        """Deliver what is left for at most ``drain_seconds``; True when all was."""
        self._closing.set()
        self._wake.set()
        self.join(drain_seconds)
        if self.is_alive():
            self._abandon.set()
            self.join(1.0)
        return self.spool.empty
