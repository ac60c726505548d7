"""Our figures against what Spark 4.3's History Server answered for the corpus logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipetrail.spark import analyze
from pipetrail.spark.findings import Registry
from tests.corpus import corpus_dir

LOGS = {
    "local-1795559086069": "sql-etl-plain.json",
    "local-1795559107021": "sql-etl-rolling-zstd",
    "local-1795597581794": "sql-killed-rolling-zstd-inprogress",
}
IN_PROGRESS = "local-1795597581794"
#: Attempt fields that describe the History Server's copy of the log, not the application.
NOT_FROM_LOG = {"lastUpdated", "lastUpdatedEpoch", "logSourceName", "logSourceFullPath"}


def diff(theirs: dict[str, Any], ours: dict[str, Any],
         skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Fields of ``theirs`` that ``ours`` lacks or holds with another value."""
    return [f"{k}: expected {v!r}, got {ours.get(k, '<missing>')!r}"
            for k, v in theirs.items() if k not in skip and ours.get(k, object()) != v]


def compare_app(reference: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """Every difference between a History Server answer and our report of the same log."""
    problems: list[str] = []
    app_id = reference["application"]["id"]
    ours_stages = {(s["stageId"], s["attemptId"]): s for s in report["stages"]}
    if set(ours_stages) != {(s["stageId"], s["attemptId"]) for s in reference["stages"]}:
        problems.append(f"stage ids differ: {sorted(ours_stages)}")
    for stage in reference["stages"]:
        key = (stage["stageId"], stage["attemptId"])
        problems += [f"stage {key}: {p}" for p in diff(stage, ours_stages.get(key, {}))]
    ours_jobs = {j["jobId"]: j for j in report["jobs"]}
    for job in reference["jobs"]:
        problems += [f"job {job['jobId']}: {p}" for p in diff(job, ours_jobs.get(job["jobId"], {}))]
    ours_execs = {e["id"]: e for e in report["executors"]}
    if set(ours_execs) != {e["id"] for e in reference["executors"]}:
        problems.append(f"executor ids differ: {sorted(ours_execs)}")
    for ex in reference["executors"]:
        # The REST API computes a running application's driver duration from its own clock.
        skip = {"totalDuration"} if ex["id"] == "driver" and app_id == IN_PROGRESS else set()
        problems += [f"executor {ex['id']}: {p}"
                     for p in diff(ex, ours_execs.get(ex["id"], {}), skip)]
    app = reference["application"]
    problems += [f"application: {p}" for p in diff(
        {k: v for k, v in app.items() if k != "attempts"}, report["application"])]
    problems += [f"attempt: {p}" for p in diff(
        app["attempts"][0], report["application"]["attempts"][0], NOT_FROM_LOG)]
    ours_sql = {q["id"]: q for q in report["sql"]}
    for q in reference["sql"]:
        mine = ours_sql.get(q["id"], {})
        plain = {k: v for k, v in q.items() if k not in (
            "nodes", "planDescription", "modifiedConfigs", "successJobIds")}
        problems += [f"sql {q['id']}: {p}" for p in diff(plain, mine)]
        if sorted(q["successJobIds"]) != mine.get("successJobIds"):
            problems.append(f"sql {q['id']}: successJobIds {q['successJobIds']}")
        theirs_nodes = [(n["nodeId"], n["nodeName"], n.get("wholeStageCodegenId"), n["desc"])
                        for n in q["nodes"]]
        ours_nodes = [(n["nodeId"], n["nodeName"], n.get("wholeStageCodegenId"), n["desc"])
                      for n in mine.get("nodes", [])]
        if theirs_nodes != ours_nodes:
            problems.append(f"sql {q['id']}: nodes {ours_nodes} != {theirs_nodes}")
        values = {(n["nodeId"], m["name"]): m for n in mine.get("nodes", [])
                  for m in n["metrics"]}
        for node in q["nodes"]:
            for metric in node["metrics"]:
                ours = values.get((node["nodeId"], metric["name"]))
                if ours is not None and ours["type"] == "sum":
                    expected = int(metric["value"].replace(",", ""))
                    if ours["value"] != expected:
                        problems.append(f"sql {q['id']} node {node['nodeId']} "
                                        f"{metric['name']}: {ours['value']} != {expected}")
    return problems


@pytest.fixture(scope="module")
def reference(spark_corpus: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((spark_corpus / "history-server-reference.json").read_text())
    return data


def test_every_corpus_log_is_analysed(spark_corpus: Path) -> None:
    root = corpus_dir()
    assert root is not None
    logs = [p for folder in sorted(root.glob("spark-events*")) for p in sorted(folder.iterdir())
            if (p.is_dir() or p.name.startswith(("local-", "app-", "sql-")))
            and p.suffix != ".py"]
    assert len(logs) >= 4
    for log in logs:
        report = analyze(log, Registry())
        assert report.application["id"], log
        assert report.source["badLines"] == 0, (log, report.warnings)


@pytest.mark.parametrize("app_id", sorted(LOGS))
def test_figures_equal_the_history_server(spark_corpus: Path, reference: dict[str, Any],
                                          app_id: str) -> None:
    report = analyze(spark_corpus / LOGS[app_id], Registry()).to_dict()
    assert report["application"]["id"] == app_id
    assert compare_app(reference[app_id], report) == []


def test_comparison_notices_a_wrong_figure(spark_corpus: Path, reference: dict[str, Any]) -> None:
    app_id = "local-1795559086069"
    report = analyze(spark_corpus / LOGS[app_id], Registry()).to_dict()
    report["stages"][3]["executorRunTime"] += 1
    report["executors"][0]["totalShuffleRead"] = 0
    problems = compare_app(reference[app_id], report)
    assert any("executorRunTime" in p for p in problems)
    assert any("totalShuffleRead" in p for p in problems)


def test_in_progress_log_is_flagged(spark_corpus: Path) -> None:
    report = analyze(spark_corpus / LOGS[IN_PROGRESS], Registry())
    assert report.source["inProgress"] is True
    assert report.application["completed"] is False
    assert report.application["attempts"][0]["duration"] == 0
    assert any("had not ended" in w for w in report.warnings)
    driver = report.executors[0]
    # To the last event of the log (the History Server uses its own clock instead).
    assert driver["totalDuration"] == 1795597590437 - 1795597580851


def test_upstream_spark_1_4_log(spark_corpus: Path) -> None:
    root = corpus_dir()
    assert root is not None
    report = analyze(root / "spark-events-upstream" / "local-1430917381535_1", Registry())
    app = report.application
    assert app["id"] == "local-1430917381535"
    assert app["attempts"][0]["attemptId"] == "1"
    assert app["sparkVersion"] == "1.4.0-SNAPSHOT"
    assert app["completed"] is True
    assert report.jobs == [] and report.stages == []
    (driver,) = report.executors
    assert (driver["id"], driver["hostPort"], driver["maxMemory"]) == (
        "driver", "localhost:61103", 278019440)
    assert "memoryMetrics" not in driver  # Spark 1.4 logged no on-heap/off-heap split
