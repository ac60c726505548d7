"""Publishing events from a process that also delivers them itself.

Whoever publishes an event tries to deliver it before going away, so that notifications
need no server: a :class:`Notifier` publishes to the bus and delivers the deliveries *it*
queued (nobody else's) —

* in the background, from a worker thread woken by each publish (``background=True``:
  ``pipetrail run`` delivers alarm changes while the job runs), or
* synchronously, within ``publish`` (the CLI, e.g. ``pipetrail alarms set-state``), or
* not at all (``queue_only=True``: the server's routes, whose leader delivers whatever
  is queued).

``flush`` then spends at most ``PIPETRAIL_NOTIFY_TIMEOUT`` seconds (default 10) on what
is left, retries included when their backoff falls within that time. Whatever is still
undelivered stays in the queue for ``pipetrail events deliver`` or the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipetrail.events.bus import Bus
from pipetrail.events.delivery import Attempt, Deliverer
from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.settings import DeliverySettings
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError
from pipetrail.store.events import DEAD

if TYPE_CHECKING:
    from pipetrail.store import Store

IDLE_WAIT = 1.0


class Notifier:
    def __init__(self, store: Store, workspace: str, *, background: bool = False,
                 queue_only: bool = False, settings: DeliverySettings | None = None,
                 deliverer: Deliverer | None = None) -> None:
        self.store = store
        self.bus = Bus(store, workspace)
        self.settings = settings or DeliverySettings.lenient()
        self.deliverer = deliverer or Deliverer(store, self.settings)
        self.background = background
        self.queue_only = queue_only
        self.attempts: list[Attempt] = []
        self._own: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> set[str]:
        with self._lock:
            return set(self._own)

    def adopt(self, ids: list[str]) -> None:
        """Take deliveries queued elsewhere (redriven dead letters) as our own."""
        with self._lock:
            self._own.update(ids)

    def publish(self, event: EventEnvelope | Mapping[str, Any],
                direct: Mapping[str, str] | None = None) -> list[str]:
        """Queue the event (see :meth:`Bus.publish`) and deliver it: now, or in the
        background (or not, when ``queue_only``). Returns the delivery ids."""
        ids = self.bus.publish(event, direct)
        if not ids or self.queue_only:
            return ids
        with self._lock:
            self._own.update(ids)
        if self.background:
            self._start()
            self._wake.set()
        else:
            self.flush()
        return ids

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._work, name="pipetrail-notify",
                                                daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            wait = IDLE_WAIT
            with contextlib.suppress(PipetrailError):
                self._deliver_round(until=None)
                wait = self._wait_for_next(IDLE_WAIT)
            self._wake.wait(wait)
            self._wake.clear()

    def _deliver_round(self, until: float | None) -> int:
        """Deliver what of our own is due; returns how many attempts were made."""
        own = list(self.pending)
        if not own:
            return 0
        attempts = self.deliverer.deliver_due(ids=own, until=until)
        self.attempts.extend(attempts)
        self._forget_settled()
        return len(attempts)

    def _forget_settled(self) -> None:
        own = list(self.pending)
        left = self.store.delivery_states(own)
        settled = {i for i in own if i not in left or left[i].state == DEAD}
        with self._lock:
            self._own -= settled

    def _wait_for_next(self, longest: float) -> float:
        due = self.store.next_due(list(self.pending))
        if due is None:
            return longest
        return max(0.0, min(longest, (due - now_ms()) / 1000))

    def flush(self, timeout: float | None = None) -> set[str]:
        """Deliver our own deliveries for at most ``timeout`` seconds (default
        ``PIPETRAIL_NOTIFY_TIMEOUT``); returns the ids still undelivered. A background
        worker is stopped first and not started again."""
        budget = self.settings.notify_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        self._stop_worker(deadline)
        while self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                if self._deliver_round(until=deadline):
                    continue
                due = self.store.next_due(list(self.pending))
            except PipetrailError:
                break
            if due is None:
                break
            wait = (due - now_ms()) / 1000
            if wait > deadline - time.monotonic():
                break
            time.sleep(max(0.01, wait))
        return self.pending

    def _stop_worker(self, deadline: float) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(max(0.0, deadline - time.monotonic()))
        self._thread = None

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        self.deliverer.close()
