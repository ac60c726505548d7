"""`pipetrail logs groups|streams|create-group|put-retention|delete-retention|expire` and
the metric filter verbs, as a user runs them, on both backends."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pipetrail.model.clock import now_ms
from pipetrail.model.log_groups import DAY_MS
from pipetrail.model.logs import LogEvent
from pipetrail.store import Store
from tests.conftest import Cli, ScriptFactory

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
NEW_VERBS = ["groups", "streams", "create-group", "put-retention", "delete-retention", "expire",
             "put-metric-filter", "describe-metric-filters", "delete-metric-filter"]


def ok(result: object) -> str:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined,no-any-return]


def trail_names(cli: Cli) -> list[str]:
    found = json.loads(ok(cli("trail", "lookup", "--source", "logs.pipetrail", "--format",
                              "json", "--limit", "200")))
    return [e["eventName"] for e in found]


@pytest.mark.parametrize("verb", NEW_VERBS)
def test_every_new_verb_has_help(verb: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pipetrail.cli", "logs", verb, "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith(f"Usage: pipetrail logs {verb}")


def test_groups_streams_and_retention(cli: Cli, script: ScriptFactory, store: Store) -> None:
    ok(cli("run", "-q", str(script("import sys\nprint('out')\nprint('err', file=sys.stderr)\n"))))
    groups = json.loads(ok(cli("logs", "groups", "--format", "json")))
    by_name = {g["logGroupName"]: g for g in groups}
    assert set(by_name) == {"/pipetrail/jobs/output", "/pipetrail/jobs/error",
                            "/pipetrail/jobs/insights"}
    output = by_name["/pipetrail/jobs/output"]
    assert output["storedEvents"] == 1 and output["retentionInDays"] is None
    assert output["arn"] == "arn:pipetrail:logs:local:log-group:/pipetrail/jobs/output"
    assert all(CAMEL.match(k) for g in groups for k in g)
    streams = json.loads(ok(cli("logs", "streams", "/pipetrail/jobs/error", "--format", "json")))
    assert len(streams) == 1 and streams[0]["storedEvents"] == 1
    assert streams[0]["logStreamName"].startswith("jr_")
    assert "never expire" in ok(cli("logs", "groups"))

    assert "after 7 days" in ok(cli("logs", "put-retention", "/pipetrail/jobs/output",
                                    "--days", "7"))
    bad = cli("logs", "put-retention", "/pipetrail/jobs/output", "--days", "8")
    assert bad.returncode == 2 and "retention must be one of 1, 3, 5, 7" in bad.stderr
    missing = cli("logs", "put-retention", "/nope", "--days", "7")
    assert missing.returncode == 4 and "no log group named '/nope'" in missing.stderr
    assert cli("logs", "streams", "/nope").returncode == 4
    ok(cli("logs", "create-group", "/app/etl", "--retention-days", "1"))
    assert cli("logs", "create-group", "/app/etl").returncode == 2
    bad_name = cli("logs", "create-group", "/app/with space")
    assert bad_name.returncode == 2 and "not ' '" in bad_name.stderr

    store.append_log_events([LogEvent("/app/etl", "old", now_ms() - 3 * DAY_MS, "old line"),
                             LogEvent("/app/etl", "new", now_ms(), "new line")])
    expired = json.loads(ok(cli("logs", "expire", "--format", "json")))
    by_group = {e["logGroupName"]: e for e in expired}
    assert by_group["/app/etl"]["deletedEvents"] == 1
    assert by_group["/app/etl"]["deletedStreams"] == 1
    assert by_group["/pipetrail/jobs/output"]["deletedEvents"] == 0
    assert [s.name for s in store.describe_log_streams("/app/etl")] == ["new"]
    ok(cli("logs", "delete-retention", "/app/etl"))
    never = cli("logs", "expire", "--group", "/app/etl")
    assert never.returncode == 2 and "no retention policy" in never.stderr

    names = trail_names(cli)
    for name in ("DescribeLogGroups", "DescribeLogStreams", "PutRetentionPolicy",
                 "CreateLogGroup", "ExpireLogEvents", "DeleteRetentionPolicy"):
        assert name in names
    events = json.loads(ok(cli("trail", "lookup", "--event-name", "ExpireLogEvents",
                               "--format", "json")))
    success = next(e for e in events if e.get("errorCode") is None)
    assert success["readOnly"] is False
    assert success["responseElements"]["deletedEvents"] == 1


def test_metric_filters_turn_the_lines_of_a_run_into_datums(
        cli: Cli, script: ScriptFactory, store: Store) -> None:
    output = "/pipetrail/jobs/output"
    ok(cli("logs", "put-metric-filter", output, "--name", "errors", "--pattern", "ERROR",
           "--metric-name", "ErrorCount", "--namespace", "Etl", "--default-value", "0",
           "--unit", "Count"))
    ok(cli("logs", "put-metric-filter", output, "-n", "rows", "-p", "{ $.rows > 0 }",
           "--metric-name", "RowsWritten", "--namespace", "Etl", "--value", "$.rows",
           "--dimension", "Table=$.table"))
    described = json.loads(ok(cli("logs", "describe-metric-filters", output, "--format",
                                  "json")))
    assert [f["filterName"] for f in described] == ["errors", "rows"]
    assert described[1]["metricTransformations"][0] == {
        "metricName": "RowsWritten", "metricNamespace": "Etl", "metricValue": "$.rows",
        "unit": "None", "dimensions": {"Table": "$.table"}}

    body = ("import json\nprint('INFO start')\nprint('ERROR bad row 7')\n"
            "print(json.dumps({'table': 'orders', 'rows': 120}))\nprint('ERROR bad row 9')\n"
            "print(json.dumps({'table': 'customers', 'rows': 3}))\n")
    ok(cli("run", "-q", str(script(body))))
    run_id = store.list_runs(limit=1)[0].run_id
    errors = store.get_metric_series("Etl", "ErrorCount", {}, 0, now_ms() + 1)
    assert [d.value for d in errors] == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert all(d.run_id == run_id and d.unit == "Count" for d in errors)
    rows = store.get_metric_series("Etl", "RowsWritten", None, 0, now_ms() + 1)
    assert sorted((d.dimensions["Table"], d.value) for d in rows) == [
        ("customers", 3.0), ("orders", 120.0)]
    points = json.loads(ok(cli("metrics", "get", "--run", run_id, "--name", "ErrorCount",
                               "--format", "json")))
    assert len(points) == 5

    by_metric = json.loads(ok(cli("logs", "describe-metric-filters", "--metric-name",
                                  "ErrorCount", "--namespace", "Etl", "--format", "json")))
    assert [f["filterName"] for f in by_metric] == ["errors"]
    ok(cli("logs", "delete-metric-filter", output, "--name", "errors"))
    gone = cli("logs", "delete-metric-filter", output, "--name", "errors")
    assert gone.returncode == 4
    names = trail_names(cli)
    assert {"PutMetricFilter", "DescribeMetricFilters", "DeleteMetricFilter"} <= set(names)


def test_bad_metric_filters_are_refused_with_exit_2(cli: Cli) -> None:
    base = ["logs", "put-metric-filter", "/pipetrail/jobs/output", "--name", "f",
            "--metric-name", "M", "--namespace", "N"]
    bad_pattern = cli(*base, "--pattern", "{ $.x = }")
    assert bad_pattern.returncode == 2 and "invalid filter pattern" in bad_pattern.stderr
    bad_dimension = cli(*base, "--pattern", "ERROR", "--dimension", "oops")
    assert bad_dimension.returncode == 2 and "write NAME=SELECTOR" in bad_dimension.stderr


def test_a_filter_needs_an_existing_group(cli: Cli) -> None:
    result = cli("logs", "put-metric-filter", "/nope", "-n", "f", "-p", "", "--metric-name",
                 "M", "--namespace", "N")
    assert result.returncode == 4 and "no log group" in result.stderr
