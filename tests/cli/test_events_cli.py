"""`pipetrail events test-pattern`, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Job Run State Change",
    "source": "pipetrail.jobs",
    "account": "local",
    "time": "2026-11-25T10:00:00Z",
    "region": "local",
    "resources": ["arn:pipetrail:jobs:local:job/nightly/run/jr_1"],
    "detail": {"jobName": "nightly", "state": "FAILED", "executionTime": 42.5},
}
FAILED = '{"source": ["pipetrail.jobs"], "detail": {"state": ["FAILED", "TIMEOUT"]}}'


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPETRAIL_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "pipetrail.cli", "events", "test-pattern", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def test_match_prints_true(tmp_path: Path) -> None:
    done = run(tmp_path, "--pattern", FAILED, "--event", json.dumps(EVENT))
    assert (done.returncode, done.stdout, done.stderr) == (0, "true\n", "")


def test_no_match_prints_false(tmp_path: Path) -> None:
    pattern = '{"detail": {"executionTime": [{"numeric": [">", 60]}]}}'
    done = run(tmp_path, "--pattern", pattern, "--event", json.dumps(EVENT))
    assert (done.returncode, done.stdout) == (0, "false\n")


def test_files_and_stdin(tmp_path: Path) -> None:
    pattern_file = tmp_path / "pattern.json"
    pattern_file.write_text(FAILED)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(EVENT))
    done = run(tmp_path, "--pattern", f"@{pattern_file}", "--event", f"@{event_file}")
    assert (done.returncode, done.stdout) == (0, "true\n")
    done = run(tmp_path, "--pattern", f"@{pattern_file}", "--event", "@-",
               stdin=json.dumps(EVENT))
    assert (done.returncode, done.stdout) == (0, "true\n")


def test_json_format(tmp_path: Path) -> None:
    done = run(tmp_path, "--pattern", FAILED, "--event", json.dumps(EVENT), "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"result": True}


@pytest.mark.parametrize(("args", "message"), [
    (["--pattern", '{"detail": {"n": [{"numeric": [">", 5, ">", 6]}]}}'],
     'invalid event pattern at detail.n[0].numeric: the second comparison must be "<"'),
    (["--pattern", '{"source": ["x"]'], "event pattern is not valid JSON"),
    (["--pattern", '{"source": [{"prefixx": "x"}]}'], 'unknown operator "prefixx"'),
    (["--pattern", "@/no/such/file.json"], "cannot read the pattern file"),
])
def test_invalid_pattern_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(tmp_path, *args, "--event", json.dumps(EVENT))
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


@pytest.mark.parametrize(("event", "message"), [
    ("[1, 2]", "an event must be a JSON object"),
    ('{"source": ', "event is not valid JSON"),
    ('{"source": "pipetrail.jobs"}', "lacks the envelope fields id, account, time"),
])
def test_invalid_event_exits_2(tmp_path: Path, event: str, message: str) -> None:
    done = run(tmp_path, "--pattern", FAILED, "--event", event)
    assert done.returncode == 2
    assert message in done.stderr


def test_envelope_check_can_be_skipped(tmp_path: Path) -> None:
    event = '{"source": "pipetrail.jobs", "detail": {"state": "TIMEOUT"}}'
    done = run(tmp_path, "--pattern", FAILED, "--event", event)
    assert done.returncode == 2 and "--no-envelope-check" in done.stderr
    done = run(tmp_path, "--pattern", FAILED, "--event", event, "--no-envelope-check")
    assert (done.returncode, done.stdout) == (0, "true\n")


def test_usage(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0 and "--pattern" in done.stdout and "--event" in done.stdout
    done = run(tmp_path, "--pattern", FAILED)
    assert done.returncode == 2 and "--event" in done.stderr
    done = run(tmp_path, "--pattern", "@-", "--event", "@-", stdin="{}")
    assert done.returncode == 2 and "only one of" in done.stderr
