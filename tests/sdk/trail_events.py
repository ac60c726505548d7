"""Running a job under ``pipetrail run`` and reading its data events back from the trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Cli


def lookup(cli: Cli, resource: str, *extra: str) -> list[dict[str, Any]]:
    """``pipetrail trail lookup --resource RESOURCE --format json``: newest first."""
    result = cli("trail", "lookup", "--resource", resource, "--format", "json",
                 "--limit", "1000", *extra)
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)
    return events


def data_events(cli: Cli, run_id: str) -> list[dict[str, Any]]:
    result = cli("trail", "lookup", "--run", run_id, "--category", "Data", "--format",
                 "json", "--limit", "1000")
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)
    return events


def run_monitored(cli: Cli, script: Path, *args: str, timeout: float = 300,
                  env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run ``script`` under ``pipetrail run``; its stdout and the run id."""
    result = cli("run", "-q", str(script), "--", *args, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    runs = cli("runs", "list", "--format", "json", "--limit", "1")
    assert runs.returncode == 0, runs.stderr
    return result.stdout, str(json.loads(runs.stdout)[0]["runId"])


def run_plain(script: Path, *args: str, cwd: Path, timeout: float = 300,
              env: dict[str, str] | None = None) -> str:
    """Run ``script`` with plain Python (no Pipetrail); its stdout."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
    environ.setdefault("PYSPARK_PYTHON", sys.executable)
    environ.update(env or {})
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                            text=True, cwd=cwd, env=environ, timeout=timeout)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


class PlainRun:
    """``script`` run with plain Python (no Pipetrail) in the background, so that it can
    overlap with a monitored run of the same job; :meth:`stdout` waits for it."""

    def __init__(self, script: Path, *args: str, cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        environ.setdefault("PYSPARK_PYTHON", sys.executable)
        environ.update(env or {})
        self._out = (cwd / "plain.stdout").open("w+")
        self._err = (cwd / "plain.stderr").open("w+")
        self.proc = subprocess.Popen([sys.executable, str(script), *args], cwd=cwd,
                                     env=environ, stdout=self._out, stderr=self._err,
                                     text=True)

    def stdout(self, timeout: float = 300) -> str:
        returncode = self.proc.wait(timeout)
        self._err.seek(0)
        assert returncode == 0, self._err.read()[-4000:]
        self._out.seek(0)
        return self._out.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        self._err.close()


def by_name(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["eventName"] == name]


def file_uri(path: Path) -> str:
    return "file://" + os.path.abspath(path)
