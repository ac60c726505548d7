"""Where built-in behaviour plugs into runs and ingest, as a user's extension would.

``run_hooks`` lists the hooks every run gets (insights, events, notifications …),
``ingest_pipeline`` the steps every log event passes (redaction, metric filters …) and
``background_evaluators`` what the server runs on a schedule, once per cluster (alarm
evaluation, rule delivery, log and trail retention, housekeeping). Each built-in is one line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipetrail.actions.background import (
    ApplyLogRetention,
    DeliverEvents,
    DeliverTrail,
    EvaluateAlarms,
    Evaluator,
    PruneIngestBatches,
    retention_interval,
)
from pipetrail.actions.context import ActionContext
from pipetrail.actions.trail_archive import ApplyTrailRetention
from pipetrail.events.alarm_events import AlarmNotifications
from pipetrail.events.notifier import Notifier
from pipetrail.ingest.metric_filters import MetricFilterStep
from pipetrail.ingest.pipeline import IngestPipeline, LogStep
from pipetrail.ingest.quiet import QuietStep
from pipetrail.ingest.redact import RedactStep
from pipetrail.logs.redaction import Redactor, compile_patterns
from pipetrail.runner.alarm_watch import AlarmWatch
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.redaction import RedactRunDetails
from pipetrail.runner.run_events import RunEvents

if TYPE_CHECKING:
    from pipetrail.alarms.evaluator import ChangeListener


def redactor(ctx: ActionContext) -> Redactor:
    """The built-in redaction rules plus the configured patterns."""
    return Redactor(compile_patterns(ctx.settings.redact_patterns))


def run_hooks(ctx: ActionContext) -> list[RunHook]:
    """The hooks of every run started through ``ctx``."""
    from pipetrail.insights.hook import InsightsHook
    from pipetrail.spark.live import SparkMonitorHook
    from pipetrail.spark.run_analysis import SparkAnalysisHook

    notifier = Notifier(ctx.store, ctx.workspace, background=True)
    hooks: list[RunHook] = [
        AlarmWatch(ctx.store, alarm_listeners(ctx, notifier)),
        SparkMonitorHook(),  # before insights: they read the Spark details it records
        SparkAnalysisHook(),  # the event log it names; a failed run's insight uses findings
        InsightsHook(ctx.store),
        RedactRunDetails(redactor(ctx)),  # secrets in the error message and exception
        # Last: its final flush also sends the last alarm changes, and the state-change
        # event carries the insights.
        RunEvents(notifier, ctx.workspace),
    ]
    return hooks


def alarm_listeners(ctx: ActionContext, notifier: Notifier | None = None, *,
                    deliver: bool = True) -> list[ChangeListener]:
    """What happens when an alarm changes state: an event on the bus and the alarm's
    actions. Without a ``notifier``, deliveries are made at once, within the call, or
    with ``deliver=False`` only queued (for the server's leader to deliver)."""
    if notifier is None:
        notifier = Notifier(ctx.store, ctx.workspace, queue_only=not deliver)
    listeners: list[ChangeListener] = [AlarmNotifications(notifier, ctx.workspace)]
    return listeners


def ingest_pipeline(ctx: ActionContext) -> IngestPipeline:
    """The ingest steps for records arriving through ``ctx``, in order."""
    steps: list[LogStep] = []
    if ctx.settings.log_filter == "standard":
        steps.append(QuietStep())  # known Spark/YARN/JVM noise is dropped
    steps.append(RedactStep(redactor(ctx)))  # secrets are masked before storage
    steps.append(MetricFilterStep(ctx.store))  # stored metric filters emit datums
    return IngestPipeline(steps)


def background_evaluators(ctx: ActionContext) -> list[Evaluator]:
    """What the server's leader runs on a schedule (see ``actions/background.py``)."""
    evaluators: list[Evaluator] = [
        EvaluateAlarms(),
        DeliverEvents(),
        PruneIngestBatches(),
        DeliverTrail(ctx.settings.delivery_interval),
        ApplyTrailRetention(),  # the trail's retention, daily
    ]
    if interval := retention_interval():  # PIPETRAIL_RETENTION_INTERVAL=0: off
        evaluators.append(ApplyLogRetention(interval=interval))
    return evaluators
