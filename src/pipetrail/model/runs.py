"""Jobs and job runs, with the Glue run states."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Any

from pipetrail.model.clock import iso_from_ms


class RunState(enum.StrEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {RunState.STOPPED, RunState.SUCCEEDED, RunState.FAILED, RunState.TIMEOUT, RunState.ERROR}
)


def new_run_id() -> str:
    """A Glue-style run id: ``jr_`` and 64 hexadecimal digits."""
    return "jr_" + os.urandom(32).hex()


@dataclass
class Job:
    name: str
    created_on: int
    script: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "createdOn": iso_from_ms(self.created_on),
            "script": self.script,
            "description": self.description,
        }


@dataclass
class JobRun:
    run_id: str
    job_name: str
    state: RunState
    started_on: int
    attempt: int = 0
    arguments: list[str] = field(default_factory=list)
    completed_on: int | None = None
    exit_code: int | None = None
    error_message: str | None = None
    principal: str | None = None
    code_hash: str | None = None
    script: str | None = None
    host: str | None = None
    pid: int | None = None
    timeout: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def execution_time(self) -> float | None:
        """Seconds from start to completion (to now if still running is not given)."""
        if self.completed_on is None:
            return None
        return round((self.completed_on - self.started_on) / 1000, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "jobName": self.job_name,
            "state": self.state.value,
            "attempt": self.attempt,
            "arguments": self.arguments,
            "startedOn": iso_from_ms(self.started_on),
            "completedOn": iso_from_ms(self.completed_on) if self.completed_on else None,
            "executionTime": self.execution_time,
            "exitCode": self.exit_code,
            "errorMessage": self.error_message,
            "startedBy": self.principal,
            "codeHash": self.code_hash,
            "script": self.script,
            "host": self.host,
            "pid": self.pid,
            "timeout": self.timeout,
        }


def merge_runs(stored: JobRun, update: JobRun) -> JobRun:
    """``stored`` updated with what ``update`` knows, for updates that may arrive late or
    twice: a final state is never replaced by an active one, the start time is the
    earliest seen, fields the update leaves empty keep their stored value, and details
    are merged (the update's keys win)."""
    keep_state = stored.state.terminal and not update.state.terminal
    merged = JobRun(
        run_id=stored.run_id,
        job_name=stored.job_name,
        state=stored.state if keep_state else update.state,
        started_on=min(stored.started_on, update.started_on),
        attempt=update.attempt if update.attempt else stored.attempt,
        arguments=update.arguments or stored.arguments,
        details={**stored.details, **update.details},
    )
    for name in ("completed_on", "exit_code", "error_message", "principal", "code_hash",
                 "script", "host", "pid", "timeout"):
        newer, older = getattr(update, name), getattr(stored, name)
        chosen = older if keep_state and name in _FINAL_FIELDS else newer
        setattr(merged, name, chosen if chosen is not None else older)
    return merged


# Fields that belong to the final state: an active update does not overwrite them.
_FINAL_FIELDS = frozenset({"completed_on", "exit_code", "error_message"})
