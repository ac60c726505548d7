"""Data records from the job become ReadDataset/WriteDataset/DeleteDataset audit events."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.runner.data_events import data_event
from tests.conftest import Cli, ScriptFactory
from tests.sdk.trail_events import data_events, lookup, run_monitored

ALICE = Identity(type="LocalUser", principal_id="1000", user_name="alice", workspace="acme")
RECORD = {"t": "data", "ts": 1_780_000_000_000, "dataset": "s3://bucket/orders.parquet",
          "operation": "read", "rows": 10, "bytes": 2048, "columns": ["id", "total"],
          "library": "pandas", "libraryVersion": "3.1.1", "function": "read_parquet",
          "format": "parquet", "details": {"durationMs": 12}}


def event(**changes: Any) -> dict[str, Any]:
    return data_event({**RECORD, **changes}, ALICE, "nightly", "jr_1").to_record()


def test_a_read_record() -> None:
    record = event()
    assert record["eventSource"] == "data.pipetrail" and record["eventName"] == "ReadDataset"
    assert record["eventType"] == "DataAccess" and record["eventCategory"] == "Data"
    assert record["readOnly"] is True and record["managementEvent"] is False
    assert record["userIdentity"]["userName"] == "alice"
    assert record["recipientAccountId"] == "acme"
    assert record["eventTime"] == "2026-05-28T20:26:40Z"
    assert (record["dataset"], record["operation"]) == ("s3://bucket/orders.parquet", "read")
    assert (record["rows"], record["bytes"], record["columns"]) == (10, 2048, ["id", "total"])
    assert record["jobRunId"] == "jr_1"
    assert record["resources"] == [
        {"type": "Pipetrail::Data::Dataset", "ARN": "s3://bucket/orders.parquet"},
        {"type": "Pipetrail::Jobs::JobRun",
         "ARN": "arn:pipetrail:jobs:acme:job/nightly/run/jr_1"}]
    assert record["requestParameters"] == {
        "dataset": "s3://bucket/orders.parquet", "operation": "read", "library": "pandas",
        "function": "read_parquet", "format": "parquet"}
    assert record["userAgent"] == "pipetrail-sdk/0.1.0 pandas/3.1.1"
    assert record["additionalEventData"] == {"durationMs": 12}


def test_writes_deletes_and_failures() -> None:
    write = event(operation="write")
    assert write["eventName"] == "WriteDataset" and write["readOnly"] is False
    assert event(operation="delete")["eventName"] == "DeleteDataset"
    failed = event(errorCode="FileNotFoundError", errorMessage="no such file", rows=None)
    assert failed["errorCode"] == "FileNotFoundError"
    assert failed["errorMessage"] == "no such file" and failed["rows"] is None
    assert "errorCode" not in event(errorMessage="a message without a code")


@pytest.mark.parametrize(("changes", "message"), [
    ({"dataset": ""}, "dataset must be a non-empty string"),
    ({"dataset": None}, "dataset must be a non-empty string"),
    ({"dataset": "x" * 5000}, "dataset must be at most 4096 characters"),
    ({"operation": "copy"}, "operation must be one of read, write, delete"),
    ({"rows": -1}, "rows must be a non-negative integer or null"),
    ({"bytes": True}, "bytes must be a non-negative integer or null"),
    ({"columns": "id"}, "columns must be a list of strings or null"),
    ({"columns": [1, 2]}, "columns must be a list of strings or null"),
    ({"library": 3}, "library must be a string"),
    ({"details": [1]}, "details must be an object"),
])
def test_malformed_records_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        event(**changes)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@given(st.dictionaries(st.sampled_from(sorted(RECORD)), json_values))
def test_any_record_is_accepted_or_refused_with_a_validation_error(
    changes: dict[str, Any],
) -> None:
    with contextlib.suppress(ValidationError):
        event(**changes)


def test_records_from_the_job_are_stored_and_bad_ones_logged(
    cli: Cli, script: ScriptFactory,
) -> None:
    body = (
        "from pipetrail.sdk import record_data_access\n"
        "from pipetrail.sdk.channel import active\n"
        "record_data_access('s3://lake/raw/events.json', 'read', rows=5, columns=['a'])\n"
        "record_data_access('s3://lake/raw/events.json', 'delete')\n"
        "active().send({'t': 'data', 'dataset': 's3://lake/x', 'operation': 'copy'})\n"
        "print('done')\n"
    )
    stdout, run_id = run_monitored(cli, script(body))
    assert stdout == "done\n"
    deleted, read = lookup(cli, "s3://lake/raw/events.json")
    assert (read["eventName"], read["rows"], read["columns"]) == ("ReadDataset", 5, ["a"])
    assert deleted["eventName"] == "DeleteDataset" and deleted["jobRunId"] == run_id
    assert read["userIdentity"]["type"] == "LocalUser"
    run = json.loads(cli("runs", "show", run_id, "--format", "json").stdout)
    assert read["userIdentity"]["userName"] == run["startedBy"]  # the run's principal
    assert len(data_events(cli, run_id)) == 2
    logs = cli("logs", "get", run_id, "--stream", "error", "--format", "json")
    messages = [e["message"] for e in json.loads(logs.stdout)]
    assert any("a data event from the job was refused: operation must be one of" in m
               for m in messages)


def test_a_job_that_does_not_import_pandas_does_not_load_it(
    cli: Cli, script: ScriptFactory,
) -> None:
    body = ("import sys, json, csv\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in\n"
            "    ('pandas', 'polars', 'pyspark', 'numpy', 'pyarrow')\n"
            "    or m.startswith('pipetrail.sdk.capture.'))))\n")
    stdout, _ = run_monitored(cli, script(body))
    assert json.loads(stdout) == []


def test_an_uncaught_read_error_looks_as_without_pipetrail(
    cli: Cli, script: ScriptFactory,
) -> None:
    path = script("import pandas as pd\n\ndef load():\n    return pd.read_csv('absent.csv')\n"
                  "\nload()\n")
    result = cli("run", str(path))
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                           cwd=cli.cwd)
    assert result.returncode == plain.returncode == 1
    assert plain.stderr in result.stderr  # no frame of the capture's wrapper
    runs = json.loads(cli("runs", "list", "--format", "json", "--limit", "1").stdout)
    run = json.loads(cli("runs", "show", runs[0]["runId"], "--format", "json").stdout)
    assert not any("/sdk/capture/" in f["file"] for f in run["exception"]["frames"])
    (failed,) = lookup(cli, "file://" + str(cli.cwd / "absent.csv"))
    assert failed["errorCode"] == "FileNotFoundError"


def test_capture_can_be_turned_off(cli: Cli, script: ScriptFactory) -> None:
    body = ("import sys, pandas as pd\n"
            "pd.DataFrame({'a': [1]}).to_csv('off.csv')\n"
            "from pipetrail.sdk import record_data_access\n"
            "record_data_access('s3://bucket/explicit', 'write')\n")
    _, run_id = run_monitored(cli, script(body), env={"PIPETRAIL_DATA_CAPTURE": "0"})
    assert [e["dataset"] for e in data_events(cli, run_id)] == ["s3://bucket/explicit"]
