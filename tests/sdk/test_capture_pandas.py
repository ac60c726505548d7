"""pandas reads and writes under ``pipetrail run`` become data events, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.sdk.trail_events import by_name, data_events, file_uri, lookup, run_monitored, run_plain

JOB = r'''
import json, os, sqlite3, sys
import pandas as pd

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
os.chdir(out)
orders = pd.DataFrame({"id": [1, 2, 3, 4, 5], "customer": ["ann", "bob", "ann", "cy", "bob"],
                       "amount": [10.0, 25.5, 7.25, 40.0, 12.0]})
orders.to_csv("orders.csv", index=False)
orders.to_parquet("orders.parquet", index=False)
orders.to_json("orders.json", orient="records", lines=True)
small = pd.read_csv("orders.csv", usecols=["id", "amount"])
by_id = pd.read_csv("orders.csv", index_col="id")
names = pd.read_parquet("orders.parquet", columns=["customer"])
lines = pd.read_json("orders.json", lines=True)
con = sqlite3.connect("shop.db")
orders.to_sql("orders", con, index=False)
big = pd.read_sql("SELECT id, amount FROM orders WHERE amount > 20", con)
joined = pd.read_sql_query("SELECT o.id FROM orders o JOIN orders p ON o.id = p.id", con)
con.close()
totals = orders.groupby("customer")["amount"].sum()
totals.to_csv("totals.csv")
orders.to_csv("log.csv", index=False)
orders.head(2).to_csv("log.csv", mode="a", header=False, index=False)
text = orders.to_csv(index=False)  # no path: returns text, writes no dataset
try:
    pd.read_csv("missing.csv")
except FileNotFoundError as exc:
    missing = type(exc).__name__
print(json.dumps({"small": small.to_dict("list"), "by_id": by_id.index.tolist(),
                  "names": names["customer"].tolist(), "lines": len(lines),
                  "big": big.to_dict("list"), "joined": len(joined),
                  "totals": totals.to_dict(), "text": len(text), "missing": missing}))
'''

OUTPUTS = ("orders.csv", "orders.json", "totals.csv", "log.csv")


@pytest.fixture(scope="module")
def monitored(module_cli: Cli) -> tuple[Path, str, str]:
    """The job run once per backend under ``pipetrail run``: its output folder, stdout
    and run id."""
    job = module_cli.cwd / "pandas_job.py"
    job.write_text(JOB)
    out = module_cli.cwd / "monitored"
    stdout, run_id = run_monitored(module_cli, job, str(out))
    return out, stdout, run_id


@pytest.fixture
def cli(module_cli: Cli) -> Cli:
    return module_cli


def test_results_are_the_same_as_without_pipetrail(
    module_cli: Cli, monitored: tuple[Path, str, str], tmp_path: Path,
) -> None:
    out, stdout, _ = monitored
    if module_cli.settings.database_url is not None:
        pytest.skip("compared once, on SQLite: the job's results do not depend on the store")
    plain_out = tmp_path / "plain"
    job = tmp_path / "pandas_job.py"
    job.write_text(JOB)
    plain = run_plain(job, str(plain_out), cwd=tmp_path)
    assert stdout == plain
    assert json.loads(stdout)["missing"] == "FileNotFoundError"
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (plain_out / name).read_bytes(), name


def test_file_reads_and_writes(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, _, run_id = monitored
    uri = file_uri(out / "orders.csv")
    events = lookup(cli, uri)
    assert [e["eventName"] for e in events] == ["ReadDataset", "ReadDataset", "WriteDataset"]
    index_col, usecols, write = events
    size = (out / "orders.csv").stat().st_size
    assert write["rows"] == 5 and write["bytes"] == size
    assert write["columns"] == ["id", "customer", "amount"]
    assert write["readOnly"] is False and write["operation"] == "write"
    assert usecols["columns"] == ["id", "amount"]  # usecols narrows the columns read
    assert usecols["rows"] == 5 and usecols["bytes"] == size and usecols["readOnly"] is True
    assert index_col["columns"] == ["id", "customer", "amount"]
    for event in events:
        assert event["eventSource"] == "data.pipetrail"
        assert event["eventType"] == "DataAccess" and event["eventCategory"] == "Data"
        assert event["dataset"] == uri and event["jobRunId"] == run_id
        assert event["userIdentity"]["type"] == "LocalUser"
        assert event["requestParameters"]["library"] == "pandas"
        assert event["requestParameters"]["format"] == "csv"
        assert event["userAgent"].startswith("pipetrail-sdk/")
        types = {r["type"]: r["ARN"] for r in event["resources"]}
        assert types["Pipetrail::Data::Dataset"] == uri
        assert types["Pipetrail::Jobs::JobRun"].endswith(f"/run/{run_id}")
        assert "errorCode" not in event
    (parquet_read,) = by_name(lookup(cli, file_uri(out / "orders.parquet")), "ReadDataset")
    assert parquet_read["columns"] == ["customer"] and parquet_read["rows"] == 5
    assert parquet_read["requestParameters"]["function"] == "read_parquet"
    (json_read,) = by_name(lookup(cli, file_uri(out / "orders.json")), "ReadDataset")
    assert json_read["rows"] == 5 and json_read["requestParameters"]["format"] == "json"
    (totals,) = lookup(cli, file_uri(out / "totals.csv"))
    assert totals["columns"] == ["customer", "amount"] and totals["rows"] == 3


def test_an_append_records_the_bytes_it_added(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, _ = monitored
    append, write = lookup(cli, file_uri(out / "log.csv"))
    assert append["additionalEventData"]["mode"] == "append" and append["rows"] == 2
    assert write["bytes"] + append["bytes"] == (out / "log.csv").stat().st_size


def test_sql_tables_and_queries(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, _, _ = monitored
    database = str((out / "shop.db").absolute()).lstrip("/")
    table = f"sql://sqlite/{database}/orders"
    read, write = lookup(cli, table)
    assert write["eventName"] == "WriteDataset" and write["rows"] == 5
    assert write["requestParameters"]["format"] == "sql"
    assert write["additionalEventData"]["mode"] == "fail"
    assert read["columns"] == ["id", "amount"] and read["rows"] == 2
    assert read["additionalEventData"]["query"].startswith("SELECT id, amount FROM orders")
    # A join is not one table: it is recorded against the database, with its query.
    (joined,) = lookup(cli, f"sql://sqlite/{database}")
    assert "JOIN" in joined["additionalEventData"]["query"] and joined["rows"] == 5


def test_a_failed_read_is_recorded_with_its_error(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, _ = monitored
    (failed,) = lookup(cli, file_uri(out / "missing.csv"))
    assert failed["eventName"] == "ReadDataset"
    assert failed["errorCode"] == "FileNotFoundError"
    assert "missing.csv" in failed["errorMessage"]
    assert failed["rows"] is None and failed["columns"] is None


def test_every_access_is_one_event(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    _, _, run_id = monitored
    events = data_events(cli, run_id)
    # 6 file writes (log.csv twice) and 1 table write; 5 file reads (one failed) and
    # 2 SQL reads. `to_csv()` without a path writes no dataset.
    assert len(by_name(events, "WriteDataset")) == 7
    assert len(by_name(events, "ReadDataset")) == 7
    assert len({e["eventID"] for e in events}) == len(events)
