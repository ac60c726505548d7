"""What changed between two runs of a job: script, arguments, data, duration, versions.

:func:`compare_runs` compares a run with a baseline (by default the job's last
successful run before it): the unified diff of their stored scripts, their arguments,
the datasets they read and wrote with rows and bytes (the run's data events in the
trail), their durations, their Python and key package versions, and, for Spark runs,
the Spark configuration.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Any

from pipetrail.model.errors import NotFoundError
from pipetrail.model.runs import JobRun, RunState

if TYPE_CHECKING:
    from pipetrail.store import Store

# Spark settings that differ on every run and say nothing about a change.
VOLATILE_SPARK_CONF = frozenset({
    "spark.app.id", "spark.app.startTime", "spark.app.submitTime", "spark.driver.port",
    "spark.ui.proxyBase", "spark.app.initial.jar.urls", "spark.app.initial.file.urls",
    "spark.repl.class.uri", "spark.repl.class.outputDir", "spark.driver.appUIAddress",
})
MAX_DATA_EVENTS = 1000


def last_successful_run(store: Store, run: JobRun) -> JobRun | None:
    """The newest SUCCEEDED run of the same job that started before ``run``."""
    for candidate in store.list_runs(job_name=run.job_name, state=RunState.SUCCEEDED.value,
                                     limit=200):
        if candidate.run_id != run.run_id and candidate.started_on <= run.started_on:
            return candidate
    return None


def _script(store: Store, run: JobRun) -> str | None:
    if not run.code_hash:
        return None
    try:
        return store.get_script(run.code_hash).decode("utf-8", errors="replace")
    except NotFoundError:
        return None


def script_change(store: Store, run: JobRun, baseline: JobRun,
                  max_lines: int | None = None) -> dict[str, Any]:
    if run.code_hash == baseline.code_hash:
        return {"changed": False, "codeHash": run.code_hash}
    old, new = _script(store, baseline), _script(store, run)
    change: dict[str, Any] = {"changed": True, "baselineCodeHash": baseline.code_hash,
                              "codeHash": run.code_hash}
    if old is None or new is None:
        change["diff"] = None
        return change
    name = os.path.basename(run.script or baseline.script or "script.py")
    lines = list(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"{baseline.run_id[:12]}/{name}", tofile=f"{run.run_id[:12]}/{name}"))
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    change["linesAdded"] = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
    change["linesRemoved"] = sum(1 for x in lines
                                 if x.startswith("-") and not x.startswith("---"))
    if max_lines is not None and len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more diff lines)\n"]
    change["diff"] = "".join(lines)
    return change


def datasets(store: Store, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows and bytes per (operation, dataset) from the run's data events."""
    from pipetrail.store.audit import AuditQuery

    found: dict[tuple[str, str], dict[str, Any]] = {}
    events = store.lookup_audit_events(AuditQuery(run_id=run_id, category="Data",
                                                  limit=MAX_DATA_EVENTS))
    for event in events:
        dataset = event.get("dataset")
        if not dataset:
            continue
        key = (str(event.get("operation") or "read"), str(dataset))
        entry = found.setdefault(key, {"rows": None, "bytes": None, "events": 0})
        entry["events"] += 1
        for field in ("rows", "bytes"):
            value = event.get(field)
            if isinstance(value, int):
                entry[field] = (entry[field] or 0) + value
    return found


def _sizes(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {"rows": entry["rows"], "bytes": entry["bytes"]}


def _data_change(run: dict[tuple[str, str], dict[str, Any]],
                 baseline: dict[tuple[str, str], dict[str, Any]], operation: str
                 ) -> list[dict[str, Any]]:
    names = sorted({d for op, d in (*run, *baseline) if op == operation})
    changes = []
    for name in names:
        new, old = run.get((operation, name)), baseline.get((operation, name))
        changes.append({"dataset": name, "baseline": _sizes(old), "run": _sizes(new),
                        "changed": _sizes(old) != _sizes(new)})
    return changes


def _versions(run: JobRun) -> tuple[str | None, dict[str, str]]:
    env = run.details.get("environment") or {}
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    return env.get("python"), {str(k): str(v) for k, v in (packages or {}).items()}


def _spark_conf(run: JobRun) -> dict[str, str] | None:
    spark = run.details.get("spark")
    if not isinstance(spark, dict) or not isinstance(spark.get("conf"), dict):
        return None
    return {str(k): str(v) for k, v in spark["conf"].items() if k not in VOLATILE_SPARK_CONF}


def _duration(run: JobRun) -> float | None:
    return run.execution_time


def compare_runs(store: Store, run: JobRun, baseline: JobRun,
                 max_diff_lines: int | None = None) -> dict[str, Any]:
    """What changed from ``baseline`` to ``run`` (JSON-ready, camelCase keys)."""
    summary: list[str] = []
    script = script_change(store, run, baseline, max_diff_lines)
    if script["changed"]:
        if "linesAdded" in script:
            summary.append(f"script changed (+{script['linesAdded']} "
                           f"-{script['linesRemoved']} lines)")
        else:
            summary.append("script changed")
    arguments = {"changed": run.arguments != baseline.arguments,
                 "baseline": baseline.arguments, "run": run.arguments}
    if arguments["changed"]:
        summary.append(f"arguments changed: {baseline.arguments} -> {run.arguments}")
    data_run, data_base = datasets(store, run.run_id), datasets(store, baseline.run_id)
    inputs = _data_change(data_run, data_base, "read")
    outputs = _data_change(data_run, data_base, "write")
    for change in inputs:
        if change["changed"]:
            old, new = change["baseline"], change["run"]
            summary.append(
                f"input {change['dataset']}: "
                f"{'absent' if old is None else _size(old)} -> "
                f"{'not read' if new is None else _size(new)}")
    durations = {"baseline": _duration(baseline), "run": _duration(run)}
    if durations["baseline"] and durations["run"] is not None:
        durations["ratio"] = round(durations["run"] / durations["baseline"], 3)
    python_old, packages_old = _versions(baseline)
    python_new, packages_new = _versions(run)
    python = {"baseline": python_old, "run": python_new,
              "changed": None if not (python_old and python_new) else python_old != python_new}
    if python["changed"]:
        summary.append(f"Python {python_old} -> {python_new}")
    packages = []
    for name in sorted(set(packages_old) | set(packages_new)):
        old_v, new_v = packages_old.get(name), packages_new.get(name)
        if old_v != new_v:
            packages.append({"name": name, "baseline": old_v, "run": new_v})
            summary.append(f"{name} {old_v or 'absent'} -> {new_v or 'absent'}")
    result: dict[str, Any] = {
        "runId": run.run_id, "runState": run.state.value,
        "baselineRunId": baseline.run_id, "baselineState": baseline.state.value,
        "jobName": run.job_name, "summary": summary, "script": script,
        "arguments": arguments, "inputs": inputs, "outputs": outputs,
        "duration": durations, "python": python, "packages": packages,
        "packagesCompared": bool(packages_old or packages_new),
    }
    conf_old, conf_new = _spark_conf(baseline), _spark_conf(run)
    if conf_old is not None or conf_new is not None:
        old_c, new_c = conf_old or {}, conf_new or {}
        changes = [{"key": k, "baseline": old_c.get(k), "run": new_c.get(k)}
                   for k in sorted(set(old_c) | set(new_c)) if old_c.get(k) != new_c.get(k)]
        result["sparkConf"] = changes
        summary.extend(f"{c['key']}: {c['baseline'] or 'unset'} -> {c['run'] or 'unset'}"
                       for c in changes)
    if not summary:
        summary.append("nothing recorded changed (same script, arguments, inputs and "
                       "versions)")
    return result


def _size(entry: dict[str, Any]) -> str:
    parts = []
    if entry.get("rows") is not None:
        parts.append(f"{entry['rows']:,} rows")
    if entry.get("bytes") is not None:
        parts.append(f"{entry['bytes']:,} bytes")
    return ", ".join(parts) or "read"
