"""Delivering queued events: claim, send, then delete, reschedule or dead-letter.

Delivery is at least once. A delivery is claimed with a lease (``LEASE_MS``) before it
is sent, counting an attempt, and leaves the queue only once the target has taken it. A
failed attempt is retried after an exponential backoff with full jitter (a random delay
between 0 and ``min(cap, base * 2 ** (attempt - 1))``; base 1 s, cap 5 minutes) until
the target's retry policy is exhausted or the error cannot get better by retrying; the
delivery is then kept as a dead letter. A deliverer that dies mid-delivery leaves its
lease behind: another deliverer on the same host sees that the owner process is gone and
takes the delivery over at once; elsewhere, when the lease expires.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipetrail.events.settings import DeliverySettings
from pipetrail.events.targets import DeliveryError, SendContext, Target
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError
from pipetrail.store.events import StoredDelivery

if TYPE_CHECKING:
    import httpx

    from pipetrail.store import Store

LEASE_MS = 120_000
"""How long a claim lasts: well above the longest attempt (60 s)."""
BATCH = 32
WORKERS = 4
MIN_ATTEMPT_SECONDS = 0.5

DELIVERED = "delivered"
RETRY = "retry"
DEAD = "dead"
LOST = "lost"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter."""

    base_ms: int = 1000
    cap_ms: int = 300_000

    def delay_ms(self, attempt: int, rng: random.Random) -> int:
        """The wait after failed attempt number ``attempt`` (1 for the first)."""
        ceiling = min(self.cap_ms, self.base_ms * 2 ** min(attempt - 1, 40))
        return int(rng.uniform(0, ceiling))


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to: delivered, retry (at ``next_attempt``), dead or lost
    (the lease was taken over meanwhile)."""

    delivery_id: str
    event_id: str
    target: str
    attempt: int
    outcome: str
    code: str | None = None
    message: str | None = None
    next_attempt: int | None = None


def _process_start_ms(pid: int) -> int | None:
    import psutil

    try:
        return int(psutil.Process(pid).create_time() * 1000)
    except psutil.Error:
        return None


def owner_id() -> str:
    """``host/pid/process start (ms)/random``: who holds a lease, and whether it lives."""
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_process_start_ms(pid) or 0}/{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool | None:
    """Whether the owner's process still runs (None: not on this host, cannot tell)."""
    parts = owner.split("/")
    if len(parts) != 4 or parts[0] != socket.gethostname():
        return None
    try:
        pid, started = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    actual = _process_start_ms(pid)
    return actual is not None and abs(actual - started) <= 10


@dataclass
class Deliverer:
    """Claims due deliveries and sends them, a few at a time."""

    store: Store
    settings: DeliverySettings = field(default_factory=DeliverySettings.lenient)
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)
    workers: int = WORKERS
    owner: str = field(default_factory=owner_id)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def deliver_due(self, ids: Sequence[str] | None = None, limit: int = BATCH,
                    until: float | None = None) -> list[Attempt]:
        """Claim and send up to ``limit`` due deliveries (of ``ids`` only, when given).
        ``until`` (a ``time.monotonic()`` deadline) shortens attempts to fit."""
        claimed = self.store.claim_deliveries(self.owner, now_ms(), LEASE_MS, limit, ids)
        if not claimed:
            return []
        names = sorted({d.target_name for d in claimed})
        targets = {t.name: t for t in self._targets(names)}
        if len(claimed) == 1:
            return [self._attempt(claimed[0], targets.get(claimed[0].target_name), until)]
        pool = self._executor()
        futures = [pool.submit(self._attempt, d, targets.get(d.target_name), until)
                   for d in claimed]
        return [f.result() for f in futures]

    def _targets(self, names: list[str]) -> list[Target]:
        found = []
        for stored in self.store.list_targets(names=names):
            with contextlib.suppress(PipetrailError):
                found.append(Target.from_stored(stored.name, stored.kind, stored.config,
                                                stored.secret))
        return found

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers,
                                                thread_name_prefix="pipetrail-deliver")
            return self._pool

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client()
            return self._http

    def _attempt(self, delivery: StoredDelivery, target: Target | None,
                 until: float | None) -> Attempt:
        if target is None:
            return self._settle_failure(delivery, None, DeliveryError(
                "NO_RESOURCE", f"no target named {delivery.target_name!r}", retriable=False))
        timeout = target.effective_timeout
        if until is not None:
            timeout = max(MIN_ATTEMPT_SECONDS, min(timeout, until - time.monotonic()))
        try:
            kind = target.target_kind
            http = self._client() if target.kind in {"webhook", "slack"} else None
            ctx = SendContext(delivery_id=delivery.id, event_id=delivery.event_id,
                              attempt=delivery.attempts, timeout=timeout,
                              settings=self.settings, http=http)
            kind.send(target.settings, target.secret, delivery.event, ctx)
        except DeliveryError as exc:
            return self._settle_failure(delivery, target, exc)
        except PipetrailError as exc:
            return self._settle_failure(delivery, target, DeliveryError(
                "NO_RESOURCE", str(exc), retriable=False))
        except Exception as exc:  # a target kind's bug must not stop the others
            return self._settle_failure(delivery, target, DeliveryError(
                "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"))
        self.store.complete_delivery(delivery.id)
        return Attempt(delivery.id, delivery.event_id, delivery.target_name, delivery.attempts,
                       DELIVERED)

    def _settle_failure(self, delivery: StoredDelivery, target: Target | None,
                        error: DeliveryError) -> Attempt:
        now = now_ms()
        code, message = error.code, error.message
        attempt = delivery.attempts

        def result(outcome: str, next_attempt: int | None = None) -> Attempt:
            return Attempt(delivery.id, delivery.event_id, delivery.target_name, attempt,
                           outcome, code, message, next_attempt)

        exhausted = None
        if target is not None and error.retriable:
            policy = target.retry
            next_attempt = now + self.backoff.delay_ms(attempt, self.rng)
            if attempt - 1 >= policy.maximum_retry_attempts:
                exhausted = (f"MaximumRetryAttempts ({policy.maximum_retry_attempts}) "
                             "reached")
            elif next_attempt - delivery.queued_on > policy.maximum_event_age_seconds * 1000:
                exhausted = (f"MaximumEventAgeInSeconds "
                             f"({policy.maximum_event_age_seconds}) reached")
            else:
                stored = self.store.retry_delivery(delivery.id, self.owner, next_attempt,
                                                   code, message)
                return result(RETRY if stored else LOST, next_attempt)
        if exhausted is not None:
            message = f"{message} [{exhausted} after {attempt} attempt(s)]"
        stored = self.store.dead_letter(delivery.id, self.owner, now, code, message)
        return result(DEAD if stored else LOST)

    def release_dead_owners(self) -> int:
        """Free the leases of deliverers on this host whose process has died."""
        released = 0
        prefix = socket.gethostname() + "/"
        for owner in self.store.lease_owners(prefix, now_ms()):
            if owner != self.owner and owner_alive(owner) is False:
                released += self.store.release_leases(owner)
        return released

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._http is not None:
                self._http.close()
                self._http = None
