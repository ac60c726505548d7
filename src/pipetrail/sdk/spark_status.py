"""Reading a running Spark application's REST API (``/api/v1``): totals and task skew.

Used by the runner's live poller every second and by the job itself once, just before
its SparkContext stops (when the API is about to disappear). Standard library only.
"""

from __future__ import annotations

import json
import time
from typing import Any

# Glue's skew metric: max/median task duration over this factor (0 below it, 1 at 2x).
SKEW_FACTOR = 5.0
# Stages examined for skew in a final report (the longest ones, plus failed/active).
MAX_SKEW_STAGES = 6

TOTAL_FIELDS = {
    "numCompletedTasks": "numCompleteTasks",
    "numFailedTasks": "numFailedTasks",
    "numKilledTasks": "numKilledTasks",
    "recordsRead": "inputRecords",
    "bytesRead": "inputBytes",
    "shuffleBytesWritten": "shuffleWriteBytes",
    "shuffleLocalBytesRead": "shuffleLocalBytesRead",
}


def get_json(url: str, timeout: float) -> Any:
    import urllib.request  # only once a Spark application runs

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def app_url(ui_url: str, app_id: str) -> str:
    return f"{ui_url.rstrip('/')}/api/v1/applications/{app_id}"


def stage_totals(stages: list[dict[str, Any]]) -> dict[str, int]:
    """Cumulative totals over all stage attempts (Glue's aggregate metric names)."""
    totals = dict.fromkeys(TOTAL_FIELDS, 0)
    totals["numCompletedStages"] = 0
    for stage in stages:
        for name, field in TOTAL_FIELDS.items():
            value = stage.get(field)
            if isinstance(value, int):
                totals[name] += value
        if stage.get("status") == "COMPLETE":
            totals["numCompletedStages"] += 1
    return totals


def skewness(ratio: float, factor: float = SKEW_FACTOR) -> float:
    """Glue's ``glue.driver.skewness.stage``: 0 when max/median < factor, 1 at 2x."""
    return round(min(1.0, max(0.0, (ratio - factor) / factor)), 3)


def _ms_since(text: str, now_ms: int) -> int | None:
    """Milliseconds from a REST timestamp (``2026-11-25T09:46:29.694GMT``) to now."""
    from calendar import timegm

    try:
        head, _, frac = text.removesuffix("GMT").partition(".")
        seconds = timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        return max(0, now_ms - (seconds * 1000 + int(frac[:3] or 0)))
    except (ValueError, OverflowError):
        return None


def _quantile_pair(summary: dict[str, Any], *path: str) -> tuple[float, float] | None:
    node: Any = summary
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, list) and len(node) == 2:
        return float(node[0]), float(node[1])
    return None


def stage_skew(base: str, stage: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """Task-duration and record skew of one stage attempt, or None if it has too few
    tasks to tell. Running tasks count with the time they have run so far."""
    if int(stage.get("numTasks") or 0) < 2:
        return None
    ref = f"{base}/stages/{stage['stageId']}/{stage.get('attemptId', 0)}"
    durations: list[float] = []
    median_ms = max_ms = 0.0
    records: tuple[float, float] | None = None
    if int(stage.get("numCompleteTasks") or 0) > 0:
        try:
            summary = get_json(f"{ref}/taskSummary?quantiles=0.5,1.0", timeout)
        except (OSError, ValueError):
            summary = None
        if isinstance(summary, dict):
            run = _quantile_pair(summary, "executorRunTime")
            if run is not None:
                median_ms, max_ms = run
                durations.extend(run)
            records = (_quantile_pair(summary, "shuffleReadMetrics", "readRecords")
                       or _quantile_pair(summary, "inputMetrics", "recordsRead"))
            if records is not None and records[1] <= 0:
                records = None
    if int(stage.get("numActiveTasks") or 0) > 0:
        try:
            running = get_json(f"{ref}/taskList?status=RUNNING&length=1000", timeout)
        except (OSError, ValueError):
            running = []
        now = int(time.time() * 1000)
        for task in running if isinstance(running, list) else []:
            elapsed = _ms_since(str(task.get("launchTime", "")), now)
            if elapsed is not None:
                max_ms = max(max_ms, float(elapsed))
    if median_ms <= 0 or max_ms <= 0:
        return None
    ratio = max_ms / median_ms
    found: dict[str, Any] = {
        "stageId": stage["stageId"], "attemptId": stage.get("attemptId", 0),
        "name": stage.get("name"), "status": stage.get("status"),
        "numTasks": stage.get("numTasks"), "medianTaskMs": round(median_ms),
        "maxTaskMs": round(max_ms), "durationRatio": round(ratio, 2),
        "skewness": skewness(ratio),
    }
    if records is not None:
        found["medianRecords"], found["maxRecords"] = int(records[0]), int(records[1])
        found["recordsRatio"] = round(records[1] / max(records[0], 1.0), 2)
    return found


def fetch_totals(ui_url: str, app_id: str, timeout: float = 2.0) -> dict[str, Any]:
    """The application's totals and the skew of its longest (and failed or still
    active) stages: what the job reports just before its context stops."""
    base = app_url(ui_url, app_id)
    stages = get_json(f"{base}/stages", timeout)
    if not isinstance(stages, list):
        return {}
    notable = [s for s in stages if s.get("status") in {"FAILED", "ACTIVE"}]
    by_time = sorted((s for s in stages if s.get("status") == "COMPLETE"),
                     key=lambda s: -int(s.get("executorRunTime") or 0))
    skews = []
    for stage in (notable + by_time)[:MAX_SKEW_STAGES]:
        skew = stage_skew(base, stage, timeout)
        if skew is not None:
            skews.append(skew)
    return {"totals": stage_totals(stages), "stages": skews}
