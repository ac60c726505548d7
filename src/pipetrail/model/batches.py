"""A batch of records delivered as one unit: stored whole or not at all, and once.

Agents (remote runs) and the OpenLineage endpoint deliver records in batches, each with
an id chosen by the sender. A batch is stored in one transaction together with its id;
a batch whose id was stored before is skipped, so a batch that is delivered again (the
sender never saw the answer) is not stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipetrail.model.audit import AuditEvent
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import Job, JobRun


@dataclass
class ScriptContent:
    code_hash: str
    content: bytes


@dataclass
class RecordBatch:
    batch_id: str
    jobs: list[Job] = field(default_factory=list)
    scripts: list[ScriptContent] = field(default_factory=list)
    # Created when new, else merged into the stored run (see model.runs.merge_runs).
    runs: list[JobRun] = field(default_factory=list)
    logs: list[LogEvent] = field(default_factory=list)
    metrics: list[MetricDatum] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many records the batch holds."""
        return len(self.runs) + len(self.logs) + len(self.metrics) + len(self.events)
