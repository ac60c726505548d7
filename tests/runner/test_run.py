"""``pipetrail run`` end to end, as a user runs it, on both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import Cli, ScriptFactory

FAST = {"PIPETRAIL_SAMPLE_INTERVAL": "0.1"}


def show(cli: Cli, run_id: str) -> dict:
    result = cli("runs", "show", run_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_run(cli: Cli) -> dict:
    result = cli("runs", "list", "--format", "json", "--limit", "1")
    assert result.returncode == 0, result.stderr
    return show(cli, json.loads(result.stdout)[0]["runId"])


def logs(cli: Cli, run_id: str, stream: str = "all") -> list[dict]:
    result = cli("logs", "get", run_id, "--stream", stream, "--format", "json", "--limit", "10000")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_successful_run_is_recorded_with_logs_metrics_and_trail(
    cli: Cli, script: ScriptFactory,
) -> None:
    path = script(
        "import sys, time\n"
        "for i in range(5):\n    print('line', i)\n"
        "print('to stderr', file=sys.stderr)\n"
        "time.sleep(0.5)\n"
        "print('args', sys.argv[1:], sys.argv[0].endswith('.py'))\n"
    )
    result = cli("run", str(path), "--job", "daily", "--", "--day", "2026-11-25", env=FAST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:5] == [f"line {i}" for i in range(5)]
    assert "args ['--day', '2026-11-25'] True" in result.stdout
    assert "to stderr" in result.stderr
    assert "SUCCEEDED" in result.stderr.splitlines()[-1]
    run = last_run(cli)
    assert run["jobName"] == "daily" and run["state"] == "SUCCEEDED" and run["exitCode"] == 0
    assert run["arguments"] == ["--day", "2026-11-25"]
    for key in ("runId", "startedOn", "completedOn", "executionTime", "errorMessage"):
        assert key in run
    assert run["executionTime"] >= 0.5
    out = [e["message"] for e in logs(cli, run["runId"], "output")]
    assert out[:5] == [f"line {i}" for i in range(5)]
    assert [e["message"] for e in logs(cli, run["runId"], "error")] == ["to stderr"]
    names = {m["metricName"] for m in run["metrics"]}
    assert {"process.memory.rss", "process.cpu.percent", "process.threads",
            "process.io.readBytes", "process.memory.peakRss", "job.duration",
            "job.exitCode", "glue.driver.aggregate.elapsedTime"} <= names
    rss = next(m for m in run["metrics"] if m["metricName"] == "process.memory.rss")
    assert rss["sampleCount"] >= 3 and rss["maximum"] > 5_000_000
    points = cli("metrics", "get", "--run", run["runId"], "--name", "process.memory.rss",
                 "--format", "json")
    assert len(json.loads(points.stdout)) == rss["sampleCount"]
    trail = cli("trail", "lookup", "--run", run["runId"], "--format", "json")
    events = {e["eventName"]: e for e in json.loads(trail.stdout)}
    assert {"StartJobRun", "JobRunStateChange", "GetJobRun"} <= set(events)
    start = events["StartJobRun"]
    assert start["responseElements"]["jobRunId"] == run["runId"]
    assert start["requestParameters"]["arguments"] == ["--day", "2026-11-25"]
    assert start["userIdentity"]["type"] == "LocalUser"
    assert events["JobRunStateChange"]["responseElements"]["state"] == "SUCCEEDED"


def test_exit_code_passes_through(cli: Cli, script: ScriptFactory) -> None:
    result = cli("run", str(script("import sys\nsys.exit(7)\n")))
    assert result.returncode == 7
    run = last_run(cli)
    assert run["state"] == "FAILED" and run["exitCode"] == 7
    assert run["errorMessage"] == "the job exited with code 7"


def test_an_exception_fails_the_run_with_its_frames(cli: Cli, script: ScriptFactory) -> None:
    path = script("def load():\n    return {}['missing']\n\nload()\n")
    result = cli("run", str(path))
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    assert result.returncode == plain.returncode == 1
    assert plain.stderr in result.stderr  # the same traceback as without pipetrail
    run = last_run(cli)
    assert run["state"] == "FAILED"
    assert run["errorMessage"] == "KeyError: 'missing'"
    frames = run["exception"]["frames"]
    assert frames[0]["file"] == str(path) and frames[-1]["line"] == 2
    assert all("pipetrail" not in f["file"] for f in frames)


def test_timeout_stops_the_job(cli: Cli, script: ScriptFactory) -> None:
    started = time.monotonic()
    result = cli("run", "--timeout", "1", str(script("import time\ntime.sleep(60)\n")))
    assert result.returncode == 124
    assert time.monotonic() - started < 30
    run = last_run(cli)
    assert run["state"] == "TIMEOUT" and run["exitCode"] == 124
    assert "timeout of 1 s" in run["errorMessage"]


def _wait_for_line(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if text in line:
            return
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"{text!r} never printed; stderr: {err}")


def _wait_for_state(cli: Cli, state: str) -> str:
    """The newest run's id once it is in ``state`` (the run is recorded while the job
    starts up, so it can appear a moment after the job's first output)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = json.loads(cli("runs", "list", "--format", "json", "--limit", "1").stdout)
        if found and found[0]["state"] == state:
            return str(found[0]["runId"])
        time.sleep(0.05)
    raise AssertionError(f"no run reached {state}")


def test_sigterm_stops_the_run_cleanly(cli: Cli, script: ScriptFactory) -> None:
    body = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    proc = cli.popen("run", str(script(body)))
    _wait_for_line(proc, "ready")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    run = last_run(cli)
    assert run["state"] == "STOPPED" and run["errorMessage"] == "stopped by SIGTERM"


def test_ctrl_c_stops_the_run(cli: Cli, script: ScriptFactory) -> None:
    body = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    proc = subprocess.Popen(cli.command("run", str(script(body))), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli.env(), cwd=cli.cwd,
                            start_new_session=True)
    _wait_for_line(proc, "ready")
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT
    assert "KeyboardInterrupt" in err
    run = last_run(cli)
    assert run["state"] == "STOPPED" and run["errorMessage"] == "stopped by SIGINT"


def test_a_job_killed_by_sigkill_fails(cli: Cli, script: ScriptFactory) -> None:
    result = cli("run", str(script("import os, signal\nprint('before')\n"
                                   "os.kill(os.getpid(), signal.SIGKILL)\n")))
    assert result.returncode == 137
    run = last_run(cli)
    assert run["state"] == "FAILED" and run["errorMessage"] == "the job was killed by SIGKILL"
    assert [e["message"] for e in logs(cli, run["runId"], "output")] == ["before"]


def test_children_are_followed_and_leftovers_stopped(
    cli: Cli, script: ScriptFactory, tmp_path: Path,
) -> None:
    pidfile = tmp_path / "leftover.pid"
    body = (
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'print(\"from child\")'], check=True)\n"
        f"p = subprocess.Popen(['sleep', '300'])\nopen({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('parent done')\n"
    )
    started = time.monotonic()
    result = cli("run", str(script(body)), env=FAST)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    run = last_run(cli)
    assert run["state"] == "SUCCEEDED"
    messages = [e["message"] for e in logs(cli, run["runId"])]
    assert "from child" in messages and "parent done" in messages
    assert any("left 1 process(es) running" in m for m in messages)
    leftover = int(pidfile.read_text())
    assert not psutil.pid_exists(leftover) or psutil.Process(leftover).status() == "zombie"


def test_binary_junk_and_huge_lines_are_kept(cli: Cli, script: ScriptFactory) -> None:
    body = (
        "import sys\n"
        "sys.stdout.buffer.write(b'ok\\x00\\xff\\xfe junk\\n')\n"
        "sys.stdout.buffer.write(b'x' * 1_000_000 + b'\\n')\n"
        "sys.stdout.buffer.write(b'no newline at the end')\n"
    )
    proc = subprocess.run(cli.command("run", "-q", str(script(body))), capture_output=True,
                          env=cli.env(), cwd=cli.cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (b"ok\x00\xff\xfe junk\n" + b"x" * 1_000_000 + b"\n"
                           b"no newline at the end")
    run = last_run(cli)
    messages = [e["message"] for e in logs(cli, run["runId"], "output")]
    assert messages[0] == "ok\ufffd\ufffd\ufffd junk"
    assert messages[-1] == "no newline at the end"
    big = messages[1:-1]
    assert len(big) == 4 and "".join(big) == "x" * 1_000_000
    assert all(len(m) <= 256 * 1024 for m in big)


def test_logging_records_are_captured_and_the_terminal_is_unchanged(
    cli: Cli, script: ScriptFactory,
) -> None:
    body = ("import logging\nlog = logging.getLogger('etl')\n"
            "log.warning('disk %s', 'low')\nlog.info('not shown: root is at WARNING')\n"
            "try:\n    1/0\nexcept ZeroDivisionError:\n    log.exception('boom')\n")
    path = script(body)
    result = cli("run", "-q", str(path))
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr == plain.stderr
    run = last_run(cli)
    records = [json.loads(e["message"]) for e in logs(cli, run["runId"], "logger")]
    assert records[0] == {"level": "WARNING", "logger": "etl", "message": "disk low"}
    assert records[1]["level"] == "ERROR" and "ZeroDivisionError" in records[1]["exception"]
    assert len(records) == 2


def test_lines_are_stored_while_the_job_runs(
    cli: Cli, script: ScriptFactory, tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    body = (f"import os, time\nprint('first')\n"
            f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)\nprint('second')\n")
    proc = cli.popen("run", str(script(body)))
    _wait_for_line(proc, "first")
    deadline = time.monotonic() + 20
    seen: list[str] = []
    while time.monotonic() < deadline:
        listing = cli("runs", "list", "--format", "json", "--limit", "1")
        found = json.loads(listing.stdout)
        if found and found[0]["state"] == "RUNNING":
            seen = [e["message"] for e in logs(cli, found[0]["runId"], "output")]
            if seen:
                break
        time.sleep(0.1)
    assert seen == ["first"]
    gate.write_text("")
    proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_concurrent_runs_keep_every_line(cli: Cli, script: ScriptFactory) -> None:
    path = script("import sys\nfor i in range(2000):\n    print(sys.argv[1], i)\n")
    procs = [cli.popen("run", "-q", str(path), str(n)) for n in range(3)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    runs = json.loads(cli("runs", "list", "--format", "json").stdout)
    assert len(runs) == 3
    for run in runs:
        lines = [e["message"] for e in logs(cli, run["runId"], "output")]
        n = run["arguments"][0]
        assert lines == [f"{n} {i}" for i in range(2000)]


def test_a_missing_script_is_refused_and_audited(cli: Cli, tmp_path: Path) -> None:
    result = cli("run", str(tmp_path / "nope.py"))
    assert result.returncode == 2
    assert "script not found" in result.stderr
    trail = json.loads(cli("trail", "lookup", "--event-name", "StartJobRun",
                           "--format", "json").stdout)
    assert trail[0]["errorCode"] == "ValidationException"


def test_a_run_whose_runner_died_is_marked_failed(cli: Cli, script: ScriptFactory) -> None:
    proc = cli.popen("run", str(script("import time\nprint('ready', flush=True)\n"
                                       "time.sleep(60)\n")))
    _wait_for_line(proc, "ready")
    run_id = _wait_for_state(cli, "RUNNING")
    proc.kill()  # the runner, not the job
    proc.wait()
    deadline = time.monotonic() + 20
    state = "RUNNING"
    while state == "RUNNING" and time.monotonic() < deadline:
        state = show(cli, run_id)["state"]
        time.sleep(0.2)
    run = show(cli, run_id)
    assert run["state"] == "FAILED"
    assert "runner stopped without recording a final state" in run["errorMessage"]


@pytest.mark.parametrize("args, message", [
    (["--timeout", "0"], "timeout must be a positive"),
    (["--job", "a/b"], "job name"),
])
def test_bad_options_are_refused(
    cli: Cli, script: ScriptFactory, args: list[str], message: str,
) -> None:
    result = cli("run", *args, str(script("print(1)")))
    assert result.returncode == 2 and message in result.stderr
