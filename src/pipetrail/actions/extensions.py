"""Where built-in behaviour plugs into runs and ingest, as a user's extension would.

``run_hooks`` lists the hooks every run gets (insights, events, notifications …) and
``ingest_pipeline`` the steps every log event passes (redaction, metric filters …).
Each built-in is one line here.
"""

from __future__ import annotations

from pipetrail.actions.context import ActionContext
from pipetrail.ingest.metric_filters import MetricFilterStep
from pipetrail.ingest.pipeline import IngestPipeline, LogStep
from pipetrail.ingest.quiet import QuietStep
from pipetrail.ingest.redact import RedactStep
from pipetrail.logs.redaction import Redactor, compile_patterns
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.redaction import RedactRunDetails


def redactor(ctx: ActionContext) -> Redactor:
    """The built-in redaction rules plus the configured patterns."""
    return Redactor(compile_patterns(ctx.settings.redact_patterns))


def run_hooks(ctx: ActionContext) -> list[RunHook]:
    """The hooks of every run started through ``ctx``."""
    hooks: list[RunHook] = [
        RedactRunDetails(redactor(ctx)),  # secrets in the error message and exception
    ]
    return hooks


def ingest_pipeline(ctx: ActionContext) -> IngestPipeline:
    """The ingest steps for records arriving through ``ctx``, in order."""
    steps: list[LogStep] = []
    if ctx.settings.log_filter == "standard":
        steps.append(QuietStep())  # known Spark/YARN/JVM noise is dropped
    steps.append(RedactStep(redactor(ctx)))  # secrets are masked before storage
    steps.append(MetricFilterStep(ctx.store))  # stored metric filters emit datums
    return IngestPipeline(steps)
