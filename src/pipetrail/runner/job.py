"""Runs one job script as a monitored job run, from launch to final state.

The script runs in a child Python (through :mod:`pipetrail.sdk.bootstrap`, see
:mod:`pipetrail.runner.launch`); its stdout and stderr stream line by line into the
run's log streams while still appearing on the terminal, its logging records arrive
through the side channel, and its process tree is sampled into metrics. Ctrl-C or
SIGTERM stops the job and records STOPPED; a timeout terminates it and records TIMEOUT
(exit code 124).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

import psutil

from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.model.clock import now_ms
from pipetrail.model.logs import ERROR_GROUP
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch, terminate_tree
from pipetrail.runner.process import describe_exit
from pipetrail.runner.sampler import children_peak_rss, leftover_processes
from pipetrail.runner.sink import RecordSink
from pipetrail.runner.writer import BatchWriter

TIMEOUT_EXIT_CODE = 124
STOP_GRACE_SECONDS = 10.0
SIGINT_GRACE_SECONDS = 2.0
DRAIN_SECONDS = 1.0


class JobRunner:
    """Follows a launched job to its end, keeping ``run`` (already stored) current."""

    def __init__(self, store: RecordSink, run: JobRun, launch: Launch,
                 hooks: Sequence[RunHook] = (), pipeline: IngestPipeline | None = None) -> None:
        self.store = store
        self.run = run
        self.launch = launch
        self.hooks = list(hooks)
        self._writer = BatchWriter(store, launch.records, pipeline=pipeline)
        self._timed_out = False

    def execute(self) -> JobRun:
        self._writer.start()
        for hook in self.hooks:
            try:
                hook.on_start(self.run, self.launch)
            except Exception as exc:  # a broken hook must not lose the run
                self.launch.log(ERROR_GROUP, now_ms(),
                                f"pipetrail: a run hook failed to start: {exc!r}")
        proc = self.launch.proc
        try:
            returncode = self._wait(proc)
        finally:
            self.launch.restore_signals()
        self.launch.sampler.stop()
        self._stop_leftovers()
        self.launch.pump.join()
        self._finish(returncode, max(self.launch.sampler.peak_rss, children_peak_rss()))
        return self.run

    def _wait(self, proc: subprocess.Popen[bytes]) -> int:
        """Wait for the job, escalating a stop: SIGINT (which the terminal also sent to
        the job) gets 2 s before SIGTERM; SIGTERM and timeouts get ``STOP_GRACE_SECONDS``
        before SIGKILL."""
        timeout = self.launch.options.timeout
        deadline = self.launch.started_monotonic + timeout if timeout else None
        escalating = False
        steps: list[tuple[float, signal.Signals]] = []
        exited = threading.Event()

        def reap() -> None:
            proc.wait()
            exited.set()

        threading.Thread(target=reap, daemon=True, name="pipetrail-wait").start()
        while True:
            if exited.wait(0.1):
                return proc.wait()
            now = time.monotonic()
            if not escalating and deadline is not None and now >= deadline:
                escalating = self._timed_out = True
                steps = [(now, signal.SIGTERM), (now + STOP_GRACE_SECONDS, signal.SIGKILL)]
            if not escalating and self.launch.stop_signal is not None:
                escalating = True
                self._mark_stopping()
                grace = SIGINT_GRACE_SECONDS if self.launch.stop_signal == signal.SIGINT else 0.0
                steps = [(now + grace, signal.SIGTERM),
                         (now + grace + STOP_GRACE_SECONDS, signal.SIGKILL)]
            while steps and steps[0][0] <= now:
                terminate_tree(proc.pid, steps.pop(0)[1])

    def _mark_stopping(self) -> None:
        if self.run.state is RunState.RUNNING:
            self.run.state = RunState.STOPPING
            with contextlib.suppress(Exception):
                self.store.update_run(self.run)
            self._notify()

    def _stop_leftovers(self) -> None:
        leftovers = leftover_processes()
        if not leftovers:
            return
        pids = ", ".join(str(p.pid) for p in leftovers)
        self.launch.log(ERROR_GROUP, now_ms(),
                        f"pipetrail: the job left {len(leftovers)} process(es) running "
                        f"({pids}); stopping them")
        for proc in leftovers:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _gone, alive = psutil.wait_procs(leftovers, timeout=3)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=3)
        self.launch.pump.stop_after(DRAIN_SECONDS)

    def _finish(self, returncode: int, peak_rss: int) -> None:
        completed = now_ms()
        exit_code, signal_text = describe_exit(returncode)
        run = self.run
        run.completed_on = completed
        run.exit_code = exit_code
        exception = self.launch.exception
        if self._timed_out:
            run.state = RunState.TIMEOUT
            run.exit_code = TIMEOUT_EXIT_CODE
            run.error_message = (f"the job exceeded its timeout of {run.timeout:g} s "
                                 "and was stopped")
        elif self.launch.stop_signal is not None:
            run.state = RunState.STOPPED
            run.error_message = f"stopped by {signal.Signals(self.launch.stop_signal).name}"
        elif returncode == 0:
            run.state = RunState.SUCCEEDED
        else:
            run.state = RunState.FAILED
            if exception is not None:
                run.error_message = f"{exception.get('type')}: {exception.get('message')}"[:4096]
            elif signal_text is not None:
                run.error_message = f"the job was {signal_text}"
            else:
                run.error_message = f"the job exited with code {exit_code}"
        if exception is not None:
            run.details["exception"] = exception
        environment = self.launch.latest.get("env")
        if environment is not None:
            run.details["environment"] = {k: v for k, v in environment.items()
                                          if k not in {"t", "ts"}}
        duration_ms = completed - run.started_on
        metric = self.launch.metric
        metric("glue.driver.aggregate.elapsedTime", duration_ms, "Milliseconds", completed)
        metric("job.duration", duration_ms / 1000, "Seconds", completed)
        metric("job.exitCode", run.exit_code or 0, "None", completed)
        metric("process.memory.peakRss", peak_rss, "Bytes", completed)
        # Run outcomes per job, as Glue's glue.succeed.ALL / glue.error.ALL (JobRunId ALL).
        per_job = {"JobName": run.job_name, "JobRunId": "ALL"}
        outcome = "glue.succeed.ALL" if run.state is RunState.SUCCEEDED else "glue.error.ALL"
        metric(outcome, 1, "Count", completed, per_job)
        metric("glue.driver.aggregate.elapsedTime", duration_ms, "Milliseconds", completed,
               per_job)
        if self.hooks:
            self._writer.sync()  # hooks read what the run recorded (data events …)
        for hook in self.hooks:
            try:
                hook.before_final(run, self.launch)
            except Exception as exc:  # a broken hook must not lose the final state
                self.launch.log(ERROR_GROUP, now_ms(),
                                f"pipetrail: a run hook failed: {exc!r}")
        self._writer.close()
        run.details["recordsWritten"] = self._writer.written
        if self._writer.failures:
            run.details["recordingFailures"] = self._writer.failures
        self.store.update_run(run)
        self._notify()

    def _notify(self) -> None:
        for hook in self.hooks:
            hook.on_state(self.run)
