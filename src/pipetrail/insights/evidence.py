"""Everything known about a failed run, in one place for the rules to read.

:func:`collect_evidence` gathers, from the run and its launch: the uncaught exception
and its frames (from the SDK), the last lines of stderr (Spark's structured JSON log
lines turned back into text), ``faulthandler`` stacks of a crash or a timeout, the
Spark application's details and last action, the findings of the analysis of its event
log, and the root cause read from the JVM traces. Rules
(:mod:`pipetrail.insights.rules`) only read an :class:`Evidence`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipetrail.insights.frames import (
    Frame,
    deepest_user_frame,
    frames_from_fault_text,
    frames_from_records,
    frames_from_traceback_text,
)
from pipetrail.insights.jvm import RootCause, root_cause
from pipetrail.model.runs import JobRun, RunState


@dataclass
class Evidence:
    run: JobRun
    exception: dict[str, Any] | None = None
    frames: list[Frame] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    fault_frames: list[Frame] = field(default_factory=list)
    worker_frames: list[Frame] = field(default_factory=list)
    spark: dict[str, Any] | None = None
    spark_action: dict[str, Any] | None = None
    cause: RootCause = field(default_factory=RootCause)
    text: str = ""
    # Findings of the run's event-log analysis (``run.details["sparkFindings"]``).
    spark_findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state(self) -> RunState:
        return self.run.state

    @property
    def exception_type(self) -> str | None:
        return str(self.exception["type"]) if self.exception else None

    @property
    def message(self) -> str:
        return str(self.exception.get("message") or "") if self.exception else ""

    def raised(self, *names: str) -> bool:
        """The job's uncaught exception is one of ``names`` (class names)."""
        return self.exception_type in names

    def search(self, pattern: str, flags: int = 0) -> re.Match[str] | None:
        """``pattern`` in the exception message or the stderr tail."""
        return re.search(pattern, self.text, flags)

    def frames_in(self, package: str) -> bool:
        """A frame of the exception runs inside ``package`` (e.g. ``pandas``)."""
        marker = f"{os.sep}{package}{os.sep}"
        return any(marker in frame.file for frame in self.frames)

    def conf(self, key: str, default: str | None = None) -> str | None:
        """A Spark configuration value of the run's application."""
        conf = (self.spark or {}).get("conf") or {}
        value = conf.get(key)
        return str(value) if value is not None else default

    @property
    def is_spark(self) -> bool:
        return self.spark is not None

    def skewed_stages(self) -> list[dict[str, Any]]:
        """Skewed stages, worst first: seen live (``skewedStages`` of the Spark details),
        else from the event log's ``skewed-stage`` finding (completed tasks only)."""
        live = (self.spark or {}).get("skewedStages") or []
        if live:
            return list(live)
        found = []
        for finding in self.spark_findings:
            if finding.get("heuristic") != "skewed-stage":
                continue
            for stage in (finding.get("evidence") or {}).get("stages") or []:
                if isinstance(stage, dict) and stage.get("skewRatio") is not None:
                    found.append({**stage, "durationRatio": stage["skewRatio"]})
        return sorted(found, key=lambda s: -float(s.get("durationRatio") or 0))

    @property
    def location(self) -> Frame | None:
        """Where in the user's code it failed: a UDF's own line for a Python worker
        error, else the innermost user frame of the exception, else of the stack
        ``faulthandler`` dumped, else a syntax error's position."""
        if self.cause.python_exception:
            frame = deepest_user_frame(self.worker_frames)
            if frame is not None:
                return frame
        frame = deepest_user_frame(self.frames) or deepest_user_frame(self.fault_frames)
        if frame is None and self.exception and isinstance(self.exception.get("line"), int):
            return Frame(str(self.exception.get("file") or self.run.script or "?"),
                         self.exception["line"], "<module>",
                         self.exception.get("code") if isinstance(
                             self.exception.get("code"), str) else None)
        return frame

    @property
    def where(self) -> str:
        """``line N of FILE`` for messages (empty when unknown)."""
        frame = self.location
        if frame is None:
            return ""
        return f"line {frame.line} of {os.path.basename(frame.file)}"

    @property
    def action_text(self) -> str:
        """``collect at line N`` for the last Spark action (empty when none)."""
        action = self.spark_action
        if not action or not action.get("name"):
            return ""
        line = f" at line {action['line']}" if action.get("line") else ""
        return f"{action['name']}(){line}"


def _plain(line: str) -> str:
    """A Spark structured (JSON) log line as the text it carries; others unchanged."""
    if not line.startswith('{"ts"'):
        return line
    try:
        body = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(body, dict):
        return line
    text = f"{body.get('level', '')} {body.get('logger', '')}: {body.get('msg', '')}"
    exception = body.get("exception")
    if isinstance(exception, dict) and exception.get("msg"):
        text += f"\n{exception.get('class', '')}: {exception['msg']}"
    return text


def build_evidence(run: JobRun, exception: dict[str, Any] | None,
                   error_lines: Iterable[str], fault_lines: Iterable[str],
                   spark: dict[str, Any] | None = None,
                   spark_action: dict[str, Any] | None = None,
                   spark_findings: list[dict[str, Any]] | None = None) -> Evidence:
    lines = [_plain(line) for line in error_lines]
    message = str(exception.get("message") or "") if exception else ""
    text = "\n".join([message, *lines])
    worker_frames: list[Frame] = []
    worker_at = text.find("from the Python worker")
    if worker_at >= 0:
        end = text.find("\n\n", worker_at)
        worker_frames = frames_from_traceback_text(text[worker_at:end if end > 0 else None])
    return Evidence(
        run=run, exception=exception,
        frames=frames_from_records(exception.get("frames") or []) if exception else [],
        error_lines=lines, fault_frames=frames_from_fault_text(fault_lines),
        worker_frames=worker_frames, spark=spark, spark_action=spark_action,
        cause=root_cause(message, "\n".join(lines)), text=text,
        spark_findings=[f for f in spark_findings or [] if isinstance(f, dict)],
    )
