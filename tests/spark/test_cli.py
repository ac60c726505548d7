"""`pipetrail spark analyze` end to end through the command's entry point."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipetrail.cli.main import main
from tests.spark.synth import EventLog, Task


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


def skewed_log(tmp_path: Path) -> Path:
    log = EventLog(name="nightly-etl")
    log.executor("1")
    log.job([[Task(1000, shuffle_read=1 << 20) for _ in range(9)]
             + [Task(30_000, shuffle_read=60 << 20)]])
    log.end()
    return log.write(tmp_path / "app-20261101000000-0001")


def test_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["spark", "analyze", str(skewed_log(tmp_path))], capsys)
    assert code == 0
    assert "Application app-20261101000000-0001 (nightly-etl), Spark 4.3.0" in out
    assert "Top 1 stages by task run time" in out
    assert "Executors" in out and "Findings" in out
    assert "skewed-stage" in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["spark", "analyze", str(skewed_log(tmp_path)), "--format", "json"],
                       capsys)
    assert code == 0
    data = orjson.loads(out)
    assert set(data) == {"source", "application", "environment", "jobs", "stages",
                         "executors", "sql", "findings"}
    assert data["stages"][0]["numCompleteTasks"] == 10
    assert data["findings"][0]["heuristic"] == "skewed-stage"


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a log\n")
    code, _, err = run(["spark", "analyze", str(notes)], capsys)
    assert code == 2
    assert "not a Spark event log" in err
    code, _, err = run(["spark", "analyze", str(tmp_path / "nope")], capsys)
    assert code == 2 and "no such event log" in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["spark", "analyze", "--help"], capsys)
    assert code == 0 and "--format" in out and "rolling" in out
