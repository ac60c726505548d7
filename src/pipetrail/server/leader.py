"""Leader election: the background evaluators run on one server process per cluster.

Every server process tries to take the lease ``evaluators`` in the store every third of
its duration (``PIPETRAIL_LEASE_SECONDS``, default 15 s). The holder renews it and runs
the evaluators (:func:`pipetrail.actions.extensions.background_evaluators`), each every
``interval`` seconds; the others wait. When the holder stops cleanly it releases the
lease and another process takes over within a third of the duration; when it dies, its
lease expires and another takes over within the duration. A holder that cannot renew
(the database is unreachable) stops running evaluators before its lease can expire, so
two processes never believe they lead at once, as long as clocks agree to well within
the duration. On SQLite the one server process simply leads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pipetrail.actions.background import Evaluator, service_context
from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import background_evaluators
from pipetrail.config import Settings
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError
from pipetrail.store import Store

log = logging.getLogger("pipetrail.server.leader")

LEASE_NAME = "evaluators"
DEFAULT_LEASE_SECONDS = 15.0


class LeaderElector:
    """Takes and renews the evaluators' lease; runs the evaluators while it holds it."""

    def __init__(self, store: Store, settings: Settings, holder: str,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 evaluators: Callable[[ActionContext], list[Evaluator]] = background_evaluators
                 ) -> None:
        self.store = store
        self.holder = holder
        self.lease_ms = int(lease_seconds * 1000)
        self.ctx = service_context(store, settings)
        self.evaluators = evaluators(self.ctx)
        self.term: int | None = None
        self._valid_until = 0.0  # monotonic time until which our lease surely holds
        self._stop = threading.Event()
        self._leading = threading.Event()
        self._threads = [
            threading.Thread(target=self._elect, name="pipetrail-election", daemon=True),
            threading.Thread(target=self._evaluate, name="pipetrail-evaluators", daemon=True),
        ]

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set() and time.monotonic() < self._valid_until

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._leading.is_set():
            self._leading.clear()
            try:
                self.store.release_lease(LEASE_NAME, self.holder)
            except PipetrailError as exc:
                log.warning("could not release the evaluators' lease: %s", exc)

    def _elect(self) -> None:
        pause = self.lease_ms / 3000
        while not self._stop.is_set():
            asked = time.monotonic()
            try:
                lease = self.store.acquire_lease(LEASE_NAME, self.holder, self.lease_ms,
                                                 now=now_ms())
            except PipetrailError as exc:
                log.warning("cannot renew the evaluators' lease: %s", exc)
                lease = None
                failed = True
            else:
                failed = False
            if lease is not None:
                # Count the lease from when we asked, minus a margin for clock drift.
                self._valid_until = asked + self.lease_ms / 1000 * 0.8
                if not self._leading.is_set():
                    self.term = lease.term
                    log.info("%s leads the evaluators (term %d)", self.holder, lease.term)
                    self._leading.set()
            elif not failed or time.monotonic() >= self._valid_until:
                if self._leading.is_set():
                    log.info("%s no longer leads the evaluators", self.holder)
                self._leading.clear()
            self._stop.wait(pause)

    def _evaluate(self) -> None:
        due: dict[str, float] = {}
        while not self._stop.is_set():
            if not self._leading.wait(timeout=0.5):
                due.clear()
                continue
            now = time.monotonic()
            for evaluator in self.evaluators:
                if not self.is_leader or self._stop.is_set():
                    break
                if due.get(evaluator.name, 0.0) > now:
                    continue
                due[evaluator.name] = now + evaluator.interval
                try:
                    evaluator.evaluate(self.ctx)
                except Exception:
                    log.exception("evaluator %s failed", evaluator.name)
            self._stop.wait(0.5)
