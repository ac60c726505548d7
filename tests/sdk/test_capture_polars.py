"""Polars reads and writes, eager and lazy, under ``pipetrail run``, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.sdk.trail_events import by_name, data_events, file_uri, lookup, run_monitored, run_plain

JOB = r'''
import json, os, sqlite3, sys
import polars as pl

out = sys.argv[1]
os.makedirs(os.path.join(out, "parts"), exist_ok=True)
os.chdir(out)
frame = pl.DataFrame({"id": [1, 2, 3, 4], "kind": ["a", "b", "a", "c"],
                      "value": [1.5, 2.0, 3.25, 4.0]})
frame.write_csv("frame.csv")
frame.write_parquet("parts/1.parquet")
frame.write_parquet("parts/2.parquet")
eager = pl.read_csv("frame.csv", columns=["id", "value"])
whole = pl.read_parquet("parts/1.parquet")
lazy = pl.scan_parquet("parts").select("kind").collect()
counted = pl.scan_csv("frame.csv").filter(pl.col("value") > 2).select(pl.len()).collect()
pl.scan_csv("frame.csv").select("id", "kind").sink_parquet("sunk.parquet")
in_memory = frame.lazy().select("id").collect()  # no scan: no dataset read
opaque = pl.scan_parquet("parts/2.parquet").map_batches(lambda d: d).select("id").collect()
con = sqlite3.connect("polars.db")
con.execute("CREATE TABLE items (id INTEGER, name TEXT)")
con.executemany("INSERT INTO items VALUES (?, ?)", [(1, "x"), (2, "y"), (3, "z")])
con.commit()
items = pl.read_database("SELECT name FROM items WHERE id >= 2", con)
try:
    pl.scan_parquet("absent.parquet").select("id").collect()
except FileNotFoundError:
    absent = "FileNotFoundError"
print(json.dumps({"eager": eager.to_dicts(), "whole": whole.height,
                  "lazy": sorted(lazy["kind"].to_list()), "counted": counted.item(),
                  "sunk": pl.read_parquet("sunk.parquet").to_dicts(),
                  "in_memory": in_memory.height, "opaque": opaque.height,
                  "items": items["name"].to_list(),
                  "absent": absent}))
'''


@pytest.fixture(scope="module")
def monitored(module_cli: Cli) -> tuple[Path, str, str]:
    job = module_cli.cwd / "polars_job.py"
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
    job = tmp_path / "polars_job.py"
    job.write_text(JOB)
    plain = run_plain(job, str(tmp_path / "plain"), cwd=tmp_path)
    assert stdout == plain
    for name in ("frame.csv", "sunk.parquet"):
        assert (out / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


def test_eager_reads_record_the_columns_they_return(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, _ = monitored
    csv = file_uri(out / "frame.csv")
    (write,) = by_name(lookup(cli, csv), "WriteDataset")
    assert write["rows"] == 4 and write["columns"] == ["id", "kind", "value"]
    assert write["bytes"] == (out / "frame.csv").stat().st_size
    eager = next(e for e in lookup(cli, csv)
                 if e["requestParameters"]["function"] == "read_csv")
    assert eager["columns"] == ["id", "value"] and eager["rows"] == 4
    assert eager["requestParameters"]["library"] == "polars"
    (whole,) = by_name(lookup(cli, file_uri(out / "parts" / "1.parquet")), "ReadDataset")
    assert whole["columns"] == ["id", "kind", "value"] and whole["rows"] == 4


def test_lazy_scans_record_the_columns_the_query_reads(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, _ = monitored
    (folder,) = lookup(cli, file_uri(out / "parts"))
    assert folder["eventName"] == "ReadDataset" and folder["columns"] == ["kind"]
    assert folder["additionalEventData"]["files"] == 2
    assert folder["bytes"] == sum(p.stat().st_size for p in (out / "parts").iterdir())
    assert folder["rows"] is None  # a lazy scan does not report the rows it read
    csv_lazy = [e for e in lookup(cli, file_uri(out / "frame.csv"))
                if e["additionalEventData"].get("lazy")]
    by_function = {e["requestParameters"]["function"]: e for e in csv_lazy}
    assert set(by_function) == {"collect", "sink_parquet"}
    assert by_function["sink_parquet"]["columns"] == ["id", "kind"]
    # `filter(value > 2).select(len())` reads only the column it filters on
    assert by_function["collect"]["columns"] == ["value"]


def test_a_scan_below_an_opaque_python_function_is_found(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, _ = monitored
    (read,) = by_name(lookup(cli, file_uri(out / "parts" / "2.parquet")), "ReadDataset")
    assert read["requestParameters"]["function"] == "collect"
    assert read["columns"] == ["id", "kind", "value"]  # map_batches stops the pushdown


def test_sinks_and_databases(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, _, _ = monitored
    read_back, sunk = lookup(cli, file_uri(out / "sunk.parquet"))
    assert sunk["eventName"] == "WriteDataset" and sunk["columns"] == ["id", "kind"]
    assert read_back["eventName"] == "ReadDataset" and read_back["rows"] == 4
    assert sunk["bytes"] == (out / "sunk.parquet").stat().st_size and sunk["rows"] is None
    database = str((out / "polars.db").absolute()).lstrip("/")
    (items,) = lookup(cli, f"sql://sqlite/{database}/items")
    assert items["columns"] == ["name"] and items["rows"] == 2
    assert items["requestParameters"]["function"] == "read_database"


def test_a_failed_lazy_read_is_recorded(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, stdout, run_id = monitored
    assert json.loads(stdout)["absent"] == "FileNotFoundError"
    (failed,) = lookup(cli, file_uri(out / "absent.parquet"))
    assert failed["errorCode"] == "FileNotFoundError" and failed["eventName"] == "ReadDataset"
    # the in-memory lazy frame read no dataset
    events = data_events(cli, run_id)
    assert len(by_name(events, "ReadDataset")) == 9
    assert len(by_name(events, "WriteDataset")) == 4
