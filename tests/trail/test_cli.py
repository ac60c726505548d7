"""The CLI verbs: ``trail query``, ``trail export``, ``trail retention`` and
``trail hold``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.conftest import Cli
from tests.trail.timeline import Timeline


def test_query_prints_a_table_json_and_csv(timeline: Timeline, cli: Cli) -> None:
    timeline.days_ago(4, days=2, user="alice")
    timeline.days_ago(2, days=1, user="bob")
    timeline.deliver()
    statement = ("SELECT username, count(*) AS n FROM events WHERE eventcategory = 'Data' "
                 "GROUP BY 1 ORDER BY 1")
    table = cli("trail", "query", statement)
    assert table.returncode == 0, table.stderr
    assert "alice" in table.stdout and "bob" in table.stdout
    answer = cli("trail", "query", statement, "--format", "json")
    assert json.loads(answer.stdout)["rows"] == [{"username": "alice", "n": 4},
                                                 {"username": "bob", "n": 2}]
    rows = list(csv.reader(io.StringIO(cli("trail", "query", statement, "--format",
                                           "csv").stdout)))
    assert rows == [["username", "n"], ["alice", "4"], ["bob", "2"]]
    capped = cli("trail", "query", statement, "--max-rows", "1", "--format", "csv")
    assert len(capped.stdout.splitlines()) == 2 and "--max-rows" in capped.stderr


def test_a_refused_statement_is_a_clear_error(cli: Cli) -> None:
    answer = cli("trail", "query", "SELECT * FROM read_csv('/etc/passwd')")
    assert answer.returncode == 2
    assert "disabled by configuration" in answer.stderr
    assert "root:" not in answer.stdout + answer.stderr


def test_export_writes_files_and_a_manifest(timeline: Timeline, cli: Cli, tmp_path: Path) -> None:
    timeline.days_ago(12, days=2)
    out = tmp_path / "export"
    answer = cli("trail", "export", "--format", "cloudtrail", "--out", str(out))
    assert answer.returncode == 0, answer.stderr
    assert "exported 12 events in 1 files" in answer.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["eventCount"] == 12
    refused = cli("trail", "export", "--out", str(out))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert cli("trail", "export", "--out", str(out), "--force", "--start", "3d").returncode == 0


def test_retention_and_holds(timeline: Timeline, cli: Cli) -> None:
    timeline.days_ago(10, days=100)
    timeline.days_ago(10, days=99, dataset="s3://lake/evidence")
    timeline.days_ago(10, days=1)
    timeline.deliver()
    assert cli("trail", "retention", "set", "--days", "30").returncode == 0
    shown = json.loads(cli("trail", "retention", "show", "--format", "json").stdout)
    assert shown["retentionDays"] == 30
    added = cli("trail", "hold", "add", "evidence", "--resource", "s3://lake/evidence",
                "--reason", "case 7")
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("trail", "hold", "list", "--format", "json").stdout)
    assert [(h["name"], h["resource"], h["reason"]) for h in listed] == [
        ("evidence", "s3://lake/evidence", "case 7")]
    dry = cli("trail", "retention", "apply", "--dry-run")
    assert "would delete 1 log files and 10 events" in dry.stdout, dry.stdout + dry.stderr
    assert "1 log files kept under legal hold" in dry.stdout
    applied = json.loads(cli("trail", "retention", "apply", "--format", "json").stdout)
    assert applied["logFilesDeleted"] == 1 and applied["eventsDeleted"] == 10
    assert cli("trail", "hold", "release", "evidence").returncode == 0
    assert cli("trail", "hold", "release", "evidence").returncode == 4
    assert "deleted 1 log files" in cli("trail", "retention", "apply").stdout
    assert cli("trail", "retention", "set").returncode == 2
