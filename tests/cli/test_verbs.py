"""The command line: help everywhere, JSON shapes, exit codes, configuration errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Cli, ScriptFactory

VERBS = [
    ["run"], ["runs"], ["runs", "list"], ["runs", "show"], ["runs", "stop"], ["jobs", "list"],
    ["logs"], ["logs", "get"], ["logs", "tail"], ["metrics", "get"], ["trail", "lookup"],
]
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def pipetrail(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipetrail.cli", *args], capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_every_verb_has_help(verb: list[str]) -> None:
    result = pipetrail(*verb, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: pipetrail " + " ".join(verb))


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        keys = set(value)
        for item in value.values():
            if isinstance(item, (dict, list)):
                keys |= _keys(item)
        return keys
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_json_output_uses_camel_case(cli: Cli, script: ScriptFactory) -> None:
    cli("run", "-q", str(script("print(1)")))
    run_id = json.loads(cli("runs", "list", "--format", "json").stdout)[0]["runId"]
    outputs = [
        cli("runs", "list", "--format", "json"), cli("runs", "show", run_id, "--format", "json"),
        cli("logs", "get", run_id, "--format", "json"), cli("jobs", "list", "--format", "json"),
        cli("metrics", "get", "--run", run_id, "--name", "job.duration", "--format", "json"),
    ]
    for result in outputs:
        assert result.returncode == 0, result.stderr
        keys = _keys(json.loads(result.stdout))
        assert keys and all(CAMEL.match(k) for k in keys), keys
    table = cli("runs", "list")
    assert run_id[:12] in table.stdout and "SUCCEEDED" in table.stdout


def test_an_unknown_run_exits_4(cli: Cli) -> None:
    for args in (["runs", "show", "jr_0000000000"], ["logs", "get", "jr_0000000000"],
                 ["metrics", "get", "--run", "jr_0000000000", "--name", "x"]):
        result = cli(*args)
        assert result.returncode == 4, args
        assert "no job run jr_0000000000" in result.stderr


def test_an_unusable_home_exits_3(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = pipetrail("runs", "list", env={"PIPETRAIL_HOME": str(blocker / "x"),
                                            "PATH": "/usr/bin:/bin"})
    assert result.returncode == 3
    assert "PIPETRAIL_HOME" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("url, message", [
    ("postgresql://u:hunter2@127.0.0.1:1/db", "cannot"),
    ("oracle://x", "unsupported database"),
])
def test_a_bad_database_url_exits_3_without_leaking_secrets(tmp_path: Path, url: str,
                                                             message: str) -> None:
    env = {"PIPETRAIL_HOME": str(tmp_path), "PIPETRAIL_DATABASE_URL": url}
    for args in (["runs", "list"], ["run", str(Path(__file__))]):
        result = pipetrail(*args, env=env)
        assert result.returncode == 3, result.stderr
        assert message in result.stderr
        assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_a_bad_sample_interval_is_a_configuration_error(tmp_path: Path) -> None:
    result = pipetrail("runs", "list", env={"PIPETRAIL_HOME": str(tmp_path),
                                            "PIPETRAIL_SAMPLE_INTERVAL": "fast"})
    assert result.returncode == 3 and "PIPETRAIL_SAMPLE_INTERVAL" in result.stderr


def test_tail_follow_prints_lines_until_the_run_ends(
    cli: Cli, script: ScriptFactory, tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    body = (f"import os, time\nprint('one', flush=True)\n"
            f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)\n"
            "print('two')\nprint('three')\n")
    job = cli.popen("run", "-q", str(script(body)))
    deadline = time.monotonic() + 20
    run_id = ""
    while not run_id and time.monotonic() < deadline:
        found = json.loads(cli("runs", "list", "--format", "json").stdout)
        run_id = found[0]["runId"] if found and found[0]["state"] == "RUNNING" else ""
        time.sleep(0.05)
    follower = cli.popen("logs", "tail", run_id, "--follow", "--raw", "--stream", "output")
    assert follower.stdout is not None
    assert follower.stdout.readline() == "one\n"
    gate.write_text("")
    rest, _ = follower.communicate(timeout=30)
    assert rest.splitlines() == ["two", "three"]
    assert follower.returncode == 0
    job.communicate(timeout=30)
