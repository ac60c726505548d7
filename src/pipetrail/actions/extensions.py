"""Where built-in behaviour plugs into runs and ingest, as a user's extension would.

``run_hooks`` lists the hooks every run gets (insights, events, notifications …),
``ingest_pipeline`` the steps every log event passes (redaction, metric filters …) and
``background_evaluators`` what the server runs on a schedule, once per cluster (alarm
evaluation, rule delivery, housekeeping). Each built-in is one line here.
"""

from __future__ import annotations

from pipetrail.actions.background import Evaluator, PruneIngestBatches
from pipetrail.actions.context import ActionContext
from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.runner.hooks import RunHook


def run_hooks(ctx: ActionContext) -> list[RunHook]:
    """The hooks of every run started through ``ctx``."""
    hooks: list[RunHook] = []
    return hooks


def ingest_pipeline(ctx: ActionContext) -> IngestPipeline:
    """The ingest steps for records arriving through ``ctx``."""
    return IngestPipeline()


def background_evaluators(ctx: ActionContext) -> list[Evaluator]:
    """What the server's leader runs on a schedule (see ``actions/background.py``)."""
    evaluators: list[Evaluator] = [
        PruneIngestBatches(),
    ]
    return evaluators
