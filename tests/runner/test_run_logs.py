"""What a run stores of its output: secrets masked everywhere (the terminal untouched),
noise dropped with --quiet-logs, live tail with a filter pattern. On both backends."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from pipetrail.actions.logs import run_streams
from pipetrail.model.runs import JobRun
from pipetrail.store import Store
from tests.conftest import Cli, ScriptFactory

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
LIMIT = 262_118  # bytes in one log event

SECRETS_JOB = f"""
import logging, sys
logging.basicConfig(format="%(levelname)s %(message)s")
log = logging.getLogger("etl")
print("connecting to postgresql://etl:hunter2@db.internal/sales")
print("AWS_ACCESS_KEY_ID={ACCESS_KEY}", file=sys.stderr)
log.warning("using secret %s", "{SECRET_KEY}")
log.warning("config %s", {{"password": "hunter2", "user": "etl"}})
print("-----BEGIN RSA PRIVATE KEY-----")
print("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun")
print("VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK")
print("-----END RSA PRIVATE KEY-----")
print("customer cust-12345678 ok")
sys.stdout.write("x" * ({LIMIT} - 12) + " Bearer abcdefghijklmnopqrstuvwx " + "y" * 10 + "\\n")
log.warning("x" * ({LIMIT} - 55) + " {ACCESS_KEY} " + "z" * 10)
raise RuntimeError("could not connect to postgresql://etl:hunter2@db.internal/sales")
"""
FORBIDDEN = ["hunter2", ACCESS_KEY, SECRET_KEY, "MIIEowIBAAKCAQEA", "VTLw7onLRnrq0",
             "12345678", "abcdefghijklmnopqrstuvwx"]


def last_run(store: Store) -> JobRun:
    return store.list_runs(limit=1)[0]


def stored(store: Store, run_id: str, stream: str = "all") -> list[str]:
    return [e.message for e in store.read_streams(run_streams(run_id, stream), limit=10_000)]


def test_secrets_are_masked_in_everything_a_run_stores(cli: Cli, script: ScriptFactory,
                                                       tmp_path: Path, store: Store) -> None:
    patterns = tmp_path / "redact.txt"
    patterns.write_text("# customer numbers\ncust-(?P<secret>\\d{8})\n\n")
    path = script(SECRETS_JOB)
    proc = subprocess.run(cli.command("run", str(path)), capture_output=True, text=True,
                          env=cli.env({"PIPETRAIL_REDACT_FILE": str(patterns)}), cwd=cli.cwd,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    for secret in ("hunter2", ACCESS_KEY, SECRET_KEY, "MIIEowIBAAKCAQEA", "cust-12345678"):
        assert secret in proc.stdout + proc.stderr  # the terminal shows the job as it is
    run = last_run(store)
    run_id = run.run_id
    everything = "\n".join(stored(store, run_id))
    for secret in FORBIDDEN:
        assert secret not in everything, secret
    output = stored(store, run_id, "output")
    assert output[:6] == [
        "connecting to postgresql://etl:[REDACTED:password]@db.internal/sales",
        "-----BEGIN RSA PRIVATE KEY-----", "[REDACTED:private-key]", "[REDACTED:private-key]",
        "-----END RSA PRIVATE KEY-----", "customer cust-[REDACTED:custom] ok"]
    assert "Bearer [REDACTED:bearer-token]" in "".join(output[6:])
    records = [json.loads(m) for m in stored(store, run_id, "logger")[:2]]
    assert records[0]["message"] == "using secret [REDACTED:aws-secret-access-key]"
    assert records[1]["message"] == ("config {'password': '[REDACTED:password]', "
                                     "'user': 'etl'}")
    assert run.error_message == ("RuntimeError: could not connect to "
                                 "postgresql://etl:[REDACTED:password]@db.internal/sales")
    assert "hunter2" not in json.dumps(run.details)
    assert "[REDACTED:password]" in json.dumps(run.details["exception"])


def test_a_bad_redaction_pattern_stops_the_run_before_it_starts(
        cli: Cli, script: ScriptFactory, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = script(f"open({str(marker)!r}, 'w').close()\n")
    result = cli("run", str(path), env={"PIPETRAIL_REDACT_PATTERNS": "ok\n(unclosed"})
    assert result.returncode == 2
    assert "redaction pattern 2 ('(unclosed') is not a valid regular expression" in result.stderr
    assert not marker.exists()


NOISY_JOB = r"""
import sys
err = sys.stderr
err.write("WARNING: Using incubator modules: jdk.incubator.vector\n")
err.write("Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties\n")
err.write("26/11/25 10:00:36 WARN NativeCodeLoader: Unable to load native-hadoop library for "
          "your platform... using builtin-java classes where applicable\n")
err.write("26/11/25 10:00:46 INFO Executor: Running task 1.0 in stage 0.0 (TID 1)\n")
err.write("26/11/25 10:00:46 DEBUG ExecutorMetricsPoller: stageTCMP: (0, 0) -> 2\n")
err.write("[Stage 0:>                                 (0 + 2) / 2]udf print 2\n")
err.write("\r[Stage 0:=====>                           (1 + 1) / 2]\r" + " " * 80 + "\r\n")
err.write("26/11/25 10:00:47 WARN HeartbeatReceiver: Removing executor 1 with no recent "
          "heartbeats\n")
print("result 55")
"""
KEPT = ["26/11/25 10:00:46 INFO Executor: Running task 1.0 in stage 0.0 (TID 1)",
        "udf print 2",
        "26/11/25 10:00:47 WARN HeartbeatReceiver: Removing executor 1 with no recent "
        "heartbeats"]


def test_quiet_logs_drop_spark_noise_from_storage_only(cli: Cli, script: ScriptFactory,
                                                       store: Store) -> None:
    path = script(NOISY_JOB)
    quiet = cli("run", "--quiet-logs", "-q", str(path))
    assert quiet.returncode == 0, quiet.stderr
    assert "Using Spark's default log4j profile" in quiet.stderr  # the terminal is untouched
    assert stored(store, last_run(store).run_id, "error") == KEPT
    loud = cli("run", "-q", str(path))
    assert loud.returncode == 0
    assert len(stored(store, last_run(store).run_id, "error")) == 8


def test_tail_follow_with_a_pattern_shows_matching_lines_as_they_come(
        cli: Cli, script: ScriptFactory, tmp_path: Path, store: Store) -> None:
    gate = tmp_path / "gate"
    body = (f"import os, time\nprint('INFO one')\nprint('ERROR two', flush=True)\n"
            f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)\n"
            "print('INFO three')\nprint('ERROR four')\nprint('{\"level\": \"ERROR\"}')\n")
    job = cli.popen("run", "-q", str(script(body)))
    deadline = time.monotonic() + 30
    run_id = ""
    while not run_id and time.monotonic() < deadline:
        found = store.list_runs(limit=1)
        run_id = found[0].run_id if found and found[0].state.value == "RUNNING" else ""
        time.sleep(0.05)
    follower = cli.popen("logs", "tail", run_id, "--follow", "--raw", "--pattern", "ERROR")
    assert follower.stdout is not None
    assert follower.stdout.readline() == "ERROR two\n"
    gate.write_text("")
    rest, _ = follower.communicate(timeout=60)
    assert rest.splitlines() == ["ERROR four", '{"level": "ERROR"}']
    assert follower.returncode == 0
    job.communicate(timeout=60)
    last = cli("logs", "tail", run_id, "-n", "1", "--raw", "-p", "{ $.level = ERROR }")
    assert last.stdout.splitlines() == ['{"level": "ERROR"}']
    bad = cli("logs", "tail", run_id, "-p", "{ $.level = }")
    assert bad.returncode == 2 and "invalid filter pattern" in bad.stderr
