"""The heuristic registry: built-ins and user heuristics load the same way."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrail.spark import analyze, heuristics
from pipetrail.spark.analysis import SparkReport
from pipetrail.spark.findings import Finding, Registry, default_registry, heuristic
from tests.spark.synth import EventLog, Task


def tiny_log(tmp_path: Path) -> Path:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100)]])
    log.end()
    return log.write(tmp_path / "app.log")


@heuristic("one-job", "Says how many jobs there were")
def one_job(report: SparkReport) -> Iterator[Finding]:
    yield Finding("one-job", "info", f"{len(report.jobs)} job(s)", {"jobs": len(report.jobs)},
                  "Nothing to do.")


def test_builtins_are_ordinary_marked_functions() -> None:
    registry = default_registry()
    assert registry.names()[:3] == ["skewed-stage", "straggler-tasks", "disk-spill"]
    assert len(registry) == 12
    for h in registry:
        assert getattr(heuristics, h.__name__) is h


def test_user_heuristic_added_like_a_builtin(tmp_path: Path) -> None:
    registry = Registry()
    registry.add(one_job)
    report = analyze(tiny_log(tmp_path), registry)
    assert [f.to_json() for f in report.findings] == [{
        "heuristic": "one-job", "severity": "info", "title": "1 job(s)",
        "evidence": {"jobs": 1}, "recommendation": "Nothing to do."}]


def test_unmarked_function_is_refused() -> None:
    with pytest.raises(TypeError, match="not a heuristic"):
        Registry().add(lambda report: [])


def test_bad_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="severity must be one of"):
        Finding("x", "urgent", "t", {}, "r")  # type: ignore[arg-type]


def test_failing_heuristic_becomes_a_warning(tmp_path: Path) -> None:
    @heuristic("broken")
    def broken(report: SparkReport) -> Iterator[Finding]:
        raise RuntimeError("boom")
        yield

    registry = Registry()
    registry.add(broken)
    registry.add(one_job)
    report = analyze(tiny_log(tmp_path), registry)
    assert [f.heuristic for f in report.findings] == ["one-job"]
    assert "heuristic 'broken' failed: RuntimeError: boom" in report.warnings


def test_findings_sorted_by_severity(tmp_path: Path) -> None:
    @heuristic("loud")
    def loud(report: SparkReport) -> Iterator[Finding]:
        yield Finding("loud", "low", "b", {}, "")
        yield Finding("loud", "high", "a", {}, "")

    registry = Registry()
    registry.add(one_job)
    registry.add(loud)
    report = analyze(tiny_log(tmp_path), registry)
    assert [f.severity for f in report.findings] == ["high", "low", "info"]


def test_installed_entry_point_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package publishing ``pipetrail.spark_heuristics`` extends the default set."""
    package = tmp_path / "site"
    package.mkdir()
    (package / "acme_checks.py").write_text(
        "from pipetrail.spark.findings import Finding, heuristic\n"
        "@heuristic('acme-app-name')\n"
        "def app_name(report):\n"
        "    if report.application['name'] == 'synthetic':\n"
        "        yield Finding('acme-app-name', 'low', 'Unnamed app', {}, 'Name it.')\n")
    dist = package / "acme_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pipetrail.spark_heuristics]\nacme = acme_checks\n")
    monkeypatch.syspath_prepend(str(package))
    registry = default_registry()
    assert "acme-app-name" in registry.names()
    report = analyze(tiny_log(tmp_path), registry)
    assert [f.heuristic for f in report.findings] == ["acme-app-name"]
    sys.modules.pop("acme_checks", None)


def test_module_with_no_heuristics_adds_nothing() -> None:
    registry = Registry()
    registry.add(types.ModuleType("empty"))
    assert len(registry) == 0
