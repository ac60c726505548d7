"""The delivery loop: what ``pipetrail events deliver`` runs, and the server alongside its
evaluators.

Each round frees the leases of dead deliverers on this host, publishes new audit events
to the rules that asked for them (:mod:`pipetrail.events.trail_events`), and delivers
every due delivery in the queue, whoever queued it. Several loops (on several hosts) may
share one store: claims keep them from sending a delivery twice at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipetrail.events.bus import Bus
from pipetrail.events.delivery import BATCH, Attempt, Backoff, Deliverer
from pipetrail.events.settings import DeliverySettings
from pipetrail.events.trail_events import TrailFollower
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError

if TYPE_CHECKING:
    from pipetrail.store import Store

POLL_INTERVAL = 0.5
OWNER_CHECK_INTERVAL = 5.0


class DeliveryLoop:
    def __init__(self, store: Store, workspace: str, *,
                 settings: DeliverySettings | None = None, backoff: Backoff | None = None,
                 poll_interval: float = POLL_INTERVAL) -> None:
        self.store = store
        self.deliverer = Deliverer(store, settings or DeliverySettings.from_env(),
                                   backoff or Backoff())
        self.trail = TrailFollower(store, workspace, Bus(store, workspace))
        self.poll_interval = poll_interval
        self._owners_checked = 0.0

    def run_once(self) -> list[Attempt]:
        """One round; returns the attempts made."""
        if time.monotonic() - self._owners_checked >= OWNER_CHECK_INTERVAL:
            self.deliverer.release_dead_owners()
            self._owners_checked = time.monotonic()
        self.trail.poll()
        attempts: list[Attempt] = []
        while True:
            batch = self.deliverer.deliver_due()
            attempts.extend(batch)
            if len(batch) < BATCH:
                return attempts

    def run(self, stop: threading.Event | None = None,
            on_attempts: Callable[[list[Attempt]], None] | None = None,
            on_error: Callable[[PipetrailError], None] | None = None) -> None:
        """Run rounds until ``stop`` is set, sleeping until the next delivery is due (at
        most ``poll_interval``). Store errors are reported and the loop goes on."""
        stop = stop or threading.Event()
        while not stop.is_set():
            wait = self.poll_interval
            try:
                attempts = self.run_once()
                if attempts and on_attempts is not None:
                    on_attempts(attempts)
                due = self.store.next_due()
                if due is not None:
                    wait = max(0.0, min(wait, (due - now_ms()) / 1000))
            except PipetrailError as exc:
                if on_error is not None:
                    on_error(exc)
            stop.wait(wait)

    def close(self) -> None:
        self.deliverer.close()
