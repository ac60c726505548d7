"""The insights run hook: every FAILED or TIMEOUT run gets its insight.

The insight (see :func:`pipetrail.insights.analyse.analyse`), with what changed since
the job's last successful run, is stored in ``run.details["insights"]`` (so
``pipetrail runs show`` and the run's state-change event carry it) and written as one
JSON event to the log group ``/pipetrail/jobs/insights``, stream = the run id.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.insights.analyse import analyse
from pipetrail.insights.compare import compare_runs, last_successful_run
from pipetrail.insights.evidence import build_evidence
from pipetrail.insights.frames import read_source
from pipetrail.insights.rules import Rule
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError
from pipetrail.model.logs import INSIGHTS_GROUP, MAX_MESSAGE_BYTES
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch

if TYPE_CHECKING:
    from pipetrail.store import Store

ANALYSED_STATES = frozenset({RunState.FAILED, RunState.TIMEOUT})
# Lines of script diff kept in the insight (pipetrail runs compare shows all of it).
MAX_DIFF_LINES = 200


class InsightsHook(RunHook):
    def __init__(self, store: Store, rules: list[Rule] | None = None) -> None:
        self.store = store
        self.rules = rules

    def before_final(self, run: JobRun, launch: Launch) -> None:
        if run.state not in ANALYSED_STATES:
            return
        evidence = build_evidence(run, launch.exception, list(launch.error_tail),
                                  list(launch.fault_text), run.details.get("spark"),
                                  launch.latest.get("spark-action"),
                                  run.details.get("sparkFindings"))
        insight = analyse(evidence, lambda path: self._source(run, path), self.rules)
        try:
            baseline = last_successful_run(self.store, run)
            if baseline is not None:
                insight["whatChanged"] = compare_runs(self.store, run, baseline,
                                                      max_diff_lines=MAX_DIFF_LINES)
        except PipetrailError as exc:
            insight["whatChanged"] = {"error": str(exc)}
        run.details["insights"] = insight
        launch.log(INSIGHTS_GROUP, now_ms(), _log_message(insight))

    def _source(self, run: JobRun, path: str) -> str | None:
        if run.script and run.code_hash and _same_file(path, run.script):
            try:
                return self.store.get_script(run.code_hash).decode("utf-8", errors="replace")
            except PipetrailError:
                pass
        return read_source(path)


def _log_message(insight: dict[str, Any]) -> str:
    """The insight as one log event's JSON (the script diff left out if too long)."""
    text = orjson.dumps(insight).decode()
    if len(text.encode()) <= MAX_MESSAGE_BYTES:
        return text
    slim = {**insight, "whatChanged": {**insight.get("whatChanged", {}),
                                       "script": {"diff": "(too long: pipetrail runs compare)"}}}
    slim["exception"] = {**insight.get("exception", {}), "message":
                         str(insight.get("exception", {}).get("message", ""))[:2000]}
    return orjson.dumps(slim).decode()[:MAX_MESSAGE_BYTES // 4]


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)
