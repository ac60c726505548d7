"""`pipetrail logs test-filter | filter | query` run as a real process on a real SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrail.config import Settings
from pipetrail.model.logs import LogEvent
from pipetrail.store import open_store
from pipetrail.store.store import AuditQuery

T0 = 1_790_000_000_000  # 2026-09-21T14:13:20Z
GROUP = "/pipetrail/jobs/output"
OTHER = "/pipetrail/jobs/error"


def run_cli(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PIPETRAIL_HOME": str(home)}
    env.pop("PIPETRAIL_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "pipetrail.cli", *args], input=stdin,
                          capture_output=True, env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("home")
    store = open_store(Settings(home=path))
    events = []
    for i in range(12):
        stream = f"run-{i % 2}"
        if i % 2:
            message = json.dumps({"level": "ERROR" if i % 3 == 0 else "INFO", "latency": i * 10})
        else:
            message = f"{'ERROR' if i % 3 == 0 else 'INFO'} step {i} took {i * 5} ms"
        events.append(LogEvent(GROUP, stream, T0 + i * 60_000, message))
    events.append(LogEvent(OTHER, "run-0", T0 + 30_000, "Traceback: ValueError: bad row"))
    store.append_log_events(events)
    store.close()
    yield path


def test_test_filter_prints_exactly_the_matching_lines(tmp_path: Path) -> None:
    lines = b"ERROR one\r\nINFO two\nTERROR three\n\xff\xfe ERROR raw bytes\nerror four\nERROR"
    result = run_cli(tmp_path, "logs", "test-filter", "--pattern", "ERROR", stdin=lines)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"ERROR one\nTERROR three\n\xff\xfe ERROR raw bytes\nERROR\n"


def test_test_filter_reads_a_file_and_extracts_values(tmp_path: Path) -> None:
    data = tmp_path / "access.log"
    data.write_text('1.2.3.4 - u [t] "GET /a.html" 404 12\n1.2.3.4 - u [t] "GET /" 200 99\n')
    pattern = "[ip, id, user, time, request = *.html*, status = 4*, bytes]"
    lines = run_cli(tmp_path, "logs", "test-filter", "-p", pattern, str(data))
    assert lines.returncode == 0, lines.stderr
    assert lines.stdout == b'1.2.3.4 - u [t] "GET /a.html" 404 12\n'
    as_json = run_cli(tmp_path, "logs", "test-filter", "-p", pattern, "--format", "json",
                      str(data))
    assert json.loads(as_json.stdout) == {"matches": [{
        "eventNumber": 1, "eventMessage": '1.2.3.4 - u [t] "GET /a.html" 404 12',
        "extractedValues": {"$ip": "1.2.3.4", "$id": "-", "$user": "u", "$time": "t",
                            "$request": "GET /a.html", "$status": "404", "$bytes": "12"}}]}


def test_test_filter_json_survives_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "logs", "test-filter", "-p", "[a, b]", "--format", "json",
                     stdin=b"x \xff\xfe\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["matches"][0]["extractedValues"] == {
        "$a": "x", "$b": "\ufffd\ufffd"}


def test_test_filter_rejects_a_bad_pattern_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "logs", "test-filter", "--pattern", "{ $.v IS NOT NULL }",
                     stdin=b"x\n")
    assert result.returncode == 2
    assert result.stdout == b""
    err = result.stderr.decode()
    assert "column 10" in err and "IS NOT is not supported" in err
    assert "  { $.v IS NOT NULL }\n           ^" in err


def test_filter_reads_the_store(home: Path) -> None:
    result = run_cli(home, "logs", "filter", GROUP, "--pattern", "ERROR", "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [e["message"] for e in payload["events"]] == [
        "ERROR step 0 took 0 ms", '{"level": "ERROR", "latency": 30}',
        "ERROR step 6 took 30 ms", '{"level": "ERROR", "latency": 90}']
    assert payload["truncated"] is False
    assert payload["events"][0]["logStreamName"] == "run-0"


def test_filter_with_json_pattern_stream_and_time_range(home: Path) -> None:
    result = run_cli(home, "logs", "filter", GROUP, "-p", "{ $.latency >= 50 }", "--stream",
                     "run-1", "--start", str(T0 + 5 * 60_000), "--end", str(T0 + 10 * 60_000),
                     "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [e["message"] for e in json.loads(result.stdout)["events"]] == [
        '{"level": "INFO", "latency": 50}', '{"level": "INFO", "latency": 70}',
        '{"level": "ERROR", "latency": 90}']


def test_filter_table_and_limit(home: Path) -> None:
    result = run_cli(home, "logs", "filter", GROUP, "--limit", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "ERROR step 0 took 0 ms" in out and "2026-09-21T14:13:20.000Z" in out
    assert "INFO step 2" not in out
    assert "raise --limit" in result.stderr.decode()


def test_filter_bad_pattern_and_bad_time_exit_2(home: Path) -> None:
    bad = run_cli(home, "logs", "filter", GROUP, "--pattern", "ERR*")
    assert bad.returncode == 2
    assert "'*' cannot appear in an unquoted term" in bad.stderr.decode()
    when = run_cli(home, "logs", "filter", GROUP, "--start", "yesterday-ish")
    assert when.returncode == 2
    assert "cannot read time" in when.stderr.decode()


def test_query_stats_over_the_store(home: Path) -> None:
    query = "filter ispresent(level) | stats count(*) as n, avg(latency) as mean by level"
    result = run_cli(home, "logs", "query", "--group", GROUP, "--start", str(T0),
                     "--end", str(T0 + 3_600_000), query, "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["columns"] == ["level", "n", "mean"]
    assert payload["results"] == [{"level": "INFO", "n": 4, "mean": 60},
                                  {"level": "ERROR", "n": 2, "mean": 60}]
    assert payload["statistics"]["recordsScanned"] == 12
    assert payload["status"] == "Complete"


def test_query_several_groups_table(home: Path) -> None:
    query = "fields @timestamp, @log, @message | filter @message like /Error|ERROR/ | limit 2"
    result = run_cli(home, "logs", "query", "-g", GROUP, "-g", OTHER, "--start", str(T0),
                     "--end", str(T0 + 3_600_000), query)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "@timestamp" in out and "2026-09-21 14:22:20.000" in out
    assert "ERROR step 6 took 30 ms" in out
    assert "Traceback" not in out


def test_query_time_range_is_respected(home: Path) -> None:
    result = run_cli(home, "logs", "query", "-g", OTHER, "--start", str(T0 + 60_000),
                     "--end", str(T0 + 3_600_000), "stats count(*) as n", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"] == []


def test_query_errors_exit_2(home: Path) -> None:
    bad = run_cli(home, "logs", "query", "-g", GROUP, "--start", "1h", "--end", "now",
                  "stats count(*) by")
    assert bad.returncode == 2
    err = bad.stderr.decode()
    assert "column 18" in err and "ends where a value was expected" in err
    backwards = run_cli(home, "logs", "query", "-g", GROUP, "--start", "now", "--end", "1h",
                        "fields @message")
    assert backwards.returncode == 2
    assert "end time must be after the start" in backwards.stderr.decode()
    groups = [arg for i in range(51) for arg in ("-g", f"/g{i}")]
    many = run_cli(home, "logs", "query", *groups, "--start", "1h", "--end", "now",
                   "fields @message")
    assert many.returncode == 2
    assert "at most 50 log groups" in many.stderr.decode()


def test_reads_are_recorded_in_the_trail(home: Path) -> None:
    run_cli(home, "logs", "filter", OTHER, "--pattern", "Traceback")
    store = open_store(Settings(home=home))
    try:
        names = [e["eventName"] for e in store.lookup_audit_events(AuditQuery(limit=200))]
    finally:
        store.close()
    assert "FilterLogEvents" in names
    assert "StartQuery" in names


@pytest.mark.parametrize("verb", ["test-filter", "filter", "query"])
def test_help(tmp_path: Path, verb: str) -> None:
    result = run_cli(tmp_path, "logs", verb, "--help")
    assert result.returncode == 0
    assert b"Usage: pipetrail logs " + verb.encode() in result.stdout


def test_filter_limits_match_the_search_module() -> None:
    from pipetrail.cli import logs_lang
    from pipetrail.logs import search

    assert logs_lang.DEFAULT_FILTER_EVENTS == search.DEFAULT_FILTER_EVENTS
    assert logs_lang.MAX_FILTER_EVENTS == search.MAX_FILTER_EVENTS
