"""Where built-in behaviour plugs into runs and ingest, as a user's extension would.

``run_hooks`` lists the hooks every run gets (insights, events, notifications …) and
``ingest_pipeline`` the steps every log event passes (redaction, metric filters …).
Each built-in is one line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipetrail.actions.context import ActionContext
from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.runner.alarm_watch import AlarmWatch
from pipetrail.runner.hooks import RunHook

if TYPE_CHECKING:
    from pipetrail.alarms.evaluator import ChangeListener


def run_hooks(ctx: ActionContext) -> list[RunHook]:
    """The hooks of every run started through ``ctx``."""
    from pipetrail.insights.hook import InsightsHook
    from pipetrail.spark.live import SparkMonitorHook

    hooks: list[RunHook] = [
        AlarmWatch(ctx.store, alarm_listeners(ctx)),
        SparkMonitorHook(),  # before insights: they read the Spark details it records
        InsightsHook(ctx.store),
    ]
    return hooks


def alarm_listeners(ctx: ActionContext) -> list[ChangeListener]:
    """What happens when an alarm changes state (events, notifications …)."""
    listeners: list[ChangeListener] = []
    return listeners


def ingest_pipeline(ctx: ActionContext) -> IngestPipeline:
    """The ingest steps for records arriving through ``ctx``."""
    return IngestPipeline()
