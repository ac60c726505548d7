"""Background evaluators: work that runs on a schedule, once per cluster.

Alarm evaluation, event-rule delivery, log retention and housekeeping run on the one
server process that holds the evaluators' lease (see ``pipetrail.server.leader``). An
evaluator is an object with a ``name``, an ``interval`` in seconds and an
``evaluate(ctx)`` method; the built-ins are listed in
:func:`pipetrail.actions.extensions.background_evaluators`.
``evaluate`` should be idempotent: after a fail-over the new leader may repeat the last
round of the old one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pipetrail.actions.context import ActionContext, Caller
from pipetrail.config import Settings, env_seconds
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ConfigError
from pipetrail.model.identity import Identity, user_agent
from pipetrail.store import Store

BATCH_MEMORY_DAYS = 30
RETENTION_VARIABLE = "PIPETRAIL_RETENTION_INTERVAL"
DEFAULT_RETENTION_INTERVAL = 600.0
MIN_RETENTION_INTERVAL = 60.0
MAX_RETENTION_INTERVAL = 86_400.0


class Evaluator(Protocol):
    name: str
    interval: float

    def evaluate(self, ctx: ActionContext) -> None:
        """One round of work; exceptions are logged and the next round runs as planned."""


def service_context(store: Store, settings: Settings) -> ActionContext:
    """The context evaluators act in: the server itself, not a caller's principal."""
    identity = Identity(type="Service", principal_id="pipetrail-server",
                        user_name="pipetrail-server", workspace=settings.workspace)
    return ActionContext(store, settings, Caller(identity, user_agent=user_agent("server")))


@dataclass
class PruneIngestBatches:
    """Forget the ids of delivered batches after ``days`` (a batch delivered again
    later than that would be stored again)."""

    name: str = "prune-ingest-batches"
    interval: float = 3600.0
    days: int = BATCH_MEMORY_DAYS

    def evaluate(self, ctx: ActionContext) -> None:
        ctx.store.prune_ingest_batches(now_ms() - self.days * 86_400_000)


@dataclass
class EvaluateAlarms:
    """Evaluate every alarm (each change goes on the bus and to the alarm's actions)."""

    name: str = "evaluate-alarms"
    interval: float = 1.0

    def evaluate(self, ctx: ActionContext) -> None:
        from pipetrail.actions.alarms import evaluate_alarms
        from pipetrail.actions.extensions import alarm_listeners

        evaluate_alarms(ctx, alarm_listeners(ctx))


class DeliverEvents:
    """Deliver due event deliveries (and publish trail events to the rules that opt in)."""

    name = "deliver-events"
    interval = 0.5

    def __init__(self) -> None:
        self._loop: object | None = None

    def evaluate(self, ctx: ActionContext) -> None:
        from pipetrail.events.loop import DeliveryLoop

        if not isinstance(self._loop, DeliveryLoop) or self._loop.store is not ctx.store:
            self._loop = DeliveryLoop(ctx.store, ctx.workspace)
        self._loop.run_once()


class DeliverTrail:
    """Deliver the trail every ``PIPETRAIL_DELIVERY_INTERVAL`` seconds (a digest even
    when nothing happened, so a gap in the archive is itself evidence)."""

    name = "deliver-trail"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._deliverer: object | None = None

    def evaluate(self, ctx: ActionContext) -> None:
        from pipetrail.actions.trail import deliverer
        from pipetrail.trail.delivery import Deliverer

        # The trail's own deliveries are not audit events (as CloudTrail's are not):
        # every digest in the archive records them.
        if not isinstance(self._deliverer, Deliverer) or self._deliverer.store is not ctx.store:
            self._deliverer = deliverer(ctx)
        self._deliverer.deliver()


@dataclass
class ApplyLogRetention:
    """Delete the log events older than their group's retention policy, as
    ``pipetrail logs expire`` does (the action ExpireLogEvents, recorded in the trail
    with what each pass deleted)."""

    name: str = "apply-log-retention"
    interval: float = DEFAULT_RETENTION_INTERVAL

    def evaluate(self, ctx: ActionContext) -> None:
        from pipetrail.actions.log_groups import expire_log_events

        expire_log_events(ctx)


def retention_interval(environ: Mapping[str, str] | None = None) -> float:
    """Seconds between the server's passes of log retention: ``PIPETRAIL_RETENTION_INTERVAL``
    (60 to 86,400; default 600); ``0`` switches the passes off."""
    value = env_seconds(os.environ if environ is None else environ, RETENTION_VARIABLE,
                        DEFAULT_RETENTION_INTERVAL)
    if value != 0 and not MIN_RETENTION_INTERVAL <= value <= MAX_RETENTION_INTERVAL:
        raise ConfigError(f"{RETENTION_VARIABLE} must be 0 (off) or between "
                          f"{MIN_RETENTION_INTERVAL:.0f} and {MAX_RETENTION_INTERVAL:.0f} "
                          f"seconds, not {value:g}")
    return value
