"""The EventBridge event envelope that Pipetrail's own events use.

Every event has ``version`` ("0"), ``id`` (a UUID), ``detail-type``, ``source``,
``account`` (the workspace), ``time`` (UTC, whole seconds), ``region`` ("local"),
``resources`` (ARNs) and ``detail`` (an object). Pipetrail's sources are named
``pipetrail.<service>``, e.g. ``pipetrail.jobs`` with detail-type
``Job Run State Change``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipetrail.model.arn import run_arn
from pipetrail.model.clock import cloudtrail_time, now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import DEFAULT_WORKSPACE
from pipetrail.model.runs import JobRun, RunState

ENVELOPE_VERSION = "0"
DEFAULT_REGION = "local"
REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")
"""Fields an event must carry to be tested against a pattern (as for TestEventPattern)."""

JOBS_SOURCE = "pipetrail.jobs"
JOB_RUN_STATE_CHANGE = "Job Run State Change"

_RESERVED_SOURCE = re.compile(r"^aws\.")

_SEVERITY = {
    RunState.SUCCEEDED: "INFO",
    RunState.STOPPED: "INFO",
    RunState.FAILED: "ERROR",
    RunState.ERROR: "ERROR",
    RunState.TIMEOUT: "WARN",
}


@dataclass(frozen=True)
class EventEnvelope:
    """One event, ready for the bus. ``to_json`` gives the EventBridge-shaped object."""

    source: str
    detail_type: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    account: str = DEFAULT_WORKSPACE
    region: str = DEFAULT_REGION
    resources: tuple[str, ...] = ()
    time_ms: int = field(default_factory=now_ms)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: str = ENVELOPE_VERSION

    def __post_init__(self) -> None:
        if not self.source or not isinstance(self.source, str):
            raise ValidationError("an event needs a non-empty source")
        if _RESERVED_SOURCE.match(self.source):
            raise ValidationError(f"source {self.source!r}: sources starting with "
                                  "'aws.' are reserved")
        if not self.detail_type or not isinstance(self.detail_type, str):
            raise ValidationError("an event needs a non-empty detail-type")
        if not isinstance(self.detail, Mapping):
            raise ValidationError("an event's detail must be an object")
        if isinstance(self.resources, str) or not all(
                isinstance(r, str) for r in self.resources):
            raise ValidationError("an event's resources must be a list of strings")
        object.__setattr__(self, "resources", tuple(self.resources))

    @property
    def time(self) -> str:
        return cloudtrail_time(self.time_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": self.time,
            "region": self.region,
            "resources": list(self.resources),
            "detail": dict(self.detail),
        }


def check_envelope(event: Mapping[str, Any]) -> None:
    """Raise ValidationError unless ``event`` has the fields an EventBridge event must have.

    ``id``, ``account``, ``source``, ``time``, ``region`` and ``detail-type`` must be
    strings, ``resources`` a list of strings and ``detail`` (when present) an object.
    """
    missing = [name for name in REQUIRED_FIELDS if name not in event]
    if missing:
        raise ValidationError(
            "the event lacks the envelope field" + ("s " if len(missing) > 1 else " ")
            + ", ".join(missing)
        )
    for name in REQUIRED_FIELDS:
        if name != "resources" and not isinstance(event[name], str):
            raise ValidationError(f"the event's {name} must be a string")
    resources = event["resources"]
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise ValidationError("the event's resources must be an array of strings")
    if "detail" in event and not isinstance(event["detail"], Mapping):
        raise ValidationError("the event's detail must be an object")


def job_run_state_change(run: JobRun, workspace: str = DEFAULT_WORKSPACE,
                         message: str | None = None) -> EventEnvelope:
    """The ``Job Run State Change`` event for ``run`` in its current state.

    ``detail`` follows Glue's job state events: ``jobName``, ``jobRunId``, ``state``,
    ``severity`` (INFO, WARN or ERROR for terminal states, else INFO), ``message``, plus
    ``attempt``, once finished ``executionTime`` and ``exitCode``, and ``insights``
    (the run's failure analysis, ``run.details["insights"]``) when there are any.
    """
    detail: dict[str, Any] = {
        "jobName": run.job_name,
        "jobRunId": run.run_id,
        "state": run.state.value,
        "severity": _SEVERITY.get(run.state, "INFO"),
        "message": message if message is not None else _default_message(run),
        "attempt": run.attempt,
    }
    if run.completed_on is not None:
        detail["executionTime"] = run.execution_time
    if run.exit_code is not None:
        detail["exitCode"] = run.exit_code
    insights = run.details.get("insights")
    if insights:
        detail["insights"] = insights
    return EventEnvelope(
        source=JOBS_SOURCE,
        detail_type=JOB_RUN_STATE_CHANGE,
        detail=detail,
        account=workspace,
        resources=(run_arn(workspace, run.job_name, run.run_id),),
        time_ms=run.completed_on if run.completed_on is not None else now_ms(),
    )


def _default_message(run: JobRun) -> str:
    if run.state is RunState.FAILED and run.error_message:
        return run.error_message
    return f"Job run {run.state.value.lower()}"
