"""Masks secrets in what a run stores besides its logs: its error message and the
message and source lines of its exception (see :mod:`pipetrail.logs.redaction`)."""

from __future__ import annotations

from typing import Any

from pipetrail.logs.redaction import Redactor
from pipetrail.model.runs import JobRun
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch


class RedactRunDetails(RunHook):
    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def before_final(self, run: JobRun, launch: Launch) -> None:
        if run.error_message:
            run.error_message = self._redactor.redact(run.error_message)
        # Everything the run keeps: the exception, insights quoting it, Spark details …
        run.details = self._redact(run.details)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redactor.redact(value)
        if isinstance(value, list):
            return [self._redact(item) for item in value]
        if isinstance(value, dict):
            return {key: self._redact(item) for key, item in value.items()}
        return value
