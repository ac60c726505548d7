"""A job run recorded through a server: ``pipetrail run`` with ``PIPETRAIL_URL`` set.

The job runs and is captured exactly as in embedded mode; its records go to the run's
spool (:class:`SpoolSink`) and a :class:`Shipper` thread delivers them. The server
records the start (StartJobRun, authorised for the token's principal) when it receives
the first batch. At the end the runner waits up to ``PIPETRAIL_AGENT_DRAIN_SECONDS``
(default 10) for the spool to empty; what is left is delivered later. Spools left by
runners that died are delivered in the background while the job runs.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipetrail.agent.client import AgentClient
from pipetrail.agent.shipper import Progress, Shipper, drain
from pipetrail.agent.sink import SpoolSink
from pipetrail.agent.spool import Spool, orphans
from pipetrail.config import Settings
from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ConfigError
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.hooks import CallbackHook, RunHook
from pipetrail.runner.job import JobRunner
from pipetrail.runner.launch import Launch
from pipetrail.runner.prepare import PreparedRun

DEFAULT_DRAIN_SECONDS = 10.0


def spool_root(settings: Settings) -> Path:
    return settings.home / "spool"


def drain_seconds(environ: dict[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    text = env.get("PIPETRAIL_AGENT_DRAIN_SECONDS", str(DEFAULT_DRAIN_SECONDS))
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"PIPETRAIL_AGENT_DRAIN_SECONDS must be seconds, not {text!r}") from None
    return max(0.0, value)


def check_remote(settings: Settings) -> tuple[str, str]:
    """The server URL and token, or ConfigError; the spool folder must be usable."""
    if not settings.url or not settings.token:
        raise ConfigError("PIPETRAIL_URL needs PIPETRAIL_TOKEN (an API token: "
                          "pipetrail access create-token)")
    if not settings.url.startswith(("http://", "https://")):
        raise ConfigError(f"PIPETRAIL_URL must start with http:// or https://, "
                          f"not {settings.url!r}")
    settings.ensure_home()
    return settings.url, settings.token


def run_remotely(settings: Settings, prepared: PreparedRun, launch: Launch,
                 on_state: Callable[[JobRun], None] | None = None) -> JobRun:
    """Follow a launched job to its end, recording through the server."""
    url, token = check_remote(settings)
    root = spool_root(settings)
    spool = Spool.create(root, {"url": url, "runId": prepared.run_id,
                                "jobName": prepared.job_name, "createdOn": now_ms(),
                                "host": socket.gethostname(), "pid": os.getpid()})
    client = AgentClient(url, token)
    shipper = Shipper(spool, client)
    sink = SpoolSink(spool, shipper.notify)
    courier = OrphanCourier(root, url, token, own=prepared.run_id)
    shipper.start()
    courier.start()
    hooks: list[RunHook] = [CallbackHook(on_state)] if on_state else []
    run = JobRun(
        run_id=prepared.run_id, job_name=prepared.job_name, state=RunState.STARTING,
        started_on=launch.started_on, arguments=list(prepared.options.arguments),
        code_hash=prepared.code_hash, script=str(prepared.options.script.resolve()),
        host=socket.gethostname(), timeout=prepared.options.timeout,
        details={"runnerPid": os.getpid(), "recordedThrough": url},
    )
    sink.begin_run(run, prepared.content, list(prepared.options.arguments))
    run.state = RunState.RUNNING
    run.pid = launch.proc.pid
    sink.update_run(run)
    for hook in hooks:
        hook.on_state(run)
    final = JobRunner(sink, run, launch, hooks, IngestPipeline()).execute()
    courier.stop()
    delivered = shipper.close(drain_seconds())
    if not delivered:
        batches, records = spool.counts()
        reason = shipper.progress.last_error or "the server is slow"
        print(f"pipetrail: {records} records ({batches} batches) of run {final.run_id} wait "
              f"in {spool.directory} ({reason}); they will be delivered by the next "
              "remote run or by: pipetrail agent flush", file=sys.stderr)
    if shipper.progress.rejected_batches:
        print(f"pipetrail: the server refused {shipper.progress.rejected_batches} batches; "
              f"they were set aside in {', '.join(sorted(set(shipper.progress.rejected_to)))}",
              file=sys.stderr)
    spool.close()
    client.close()
    return final


class OrphanCourier(threading.Thread):
    """Delivers spools left by runners that died, one after the other, in the
    background (for the same server only)."""

    def __init__(self, root: Path, url: str, token: str, own: str | None = None) -> None:
        super().__init__(name="pipetrail-orphans", daemon=True)
        self.root, self.url, self.token, self.own = root, url, token, own
        self.progress = Progress()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        deliver_orphans(self.root, self.url, self.token, self.progress,
                        deadline=float("inf"), stop=self._stop.is_set, own=self.own)


@dataclass
class OrphanReport:
    delivered: list[str]
    left: list[str]
    busy: list[str]
    other_server: list[str]


def deliver_orphans(root: Path, url: str, token: str, progress: Progress, deadline: float,
                    stop: Callable[[], bool] = lambda: False, own: str | None = None
                    ) -> OrphanReport:
    """Deliver every spool below ``root`` whose runner is gone and whose server is
    ``url``; ``deadline`` is a monotonic time."""
    report = OrphanReport([], [], [], [])
    client: AgentClient | None = None
    try:
        for directory in orphans(root, own):
            if stop() or time.monotonic() >= deadline:
                report.left.append(directory.name)
                continue
            spool = Spool.adopt(directory)
            if spool is None:
                report.busy.append(directory.name)
                continue
            try:
                if spool.meta.get("url") != url:
                    report.other_server.append(directory.name)
                    continue
                client = client or AgentClient(url, token)
                if drain(spool, client, progress, deadline, stop):
                    report.delivered.append(directory.name)
                else:
                    report.left.append(directory.name)
            finally:
                spool.close()
    finally:
        if client is not None:
            client.close()
    return report
