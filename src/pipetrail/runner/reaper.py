"""Finds runs whose runner died (kill -9, power cut) and records them as FAILED."""

from __future__ import annotations

import socket

import psutil

from pipetrail.model.clock import now_ms
from pipetrail.model.runs import JobRun, RunState
from pipetrail.store import Store

# A run without a recorded runner pid is given this long before it is judged.
STARTING_GRACE_MS = 60_000


def runner_alive(run: JobRun) -> bool:
    """True unless the run's runner process on this host is certainly gone."""
    if run.host != socket.gethostname():
        return True  # another machine's run: it is not ours to judge
    pid = run.details.get("runnerPid")
    if not isinstance(pid, int):
        return now_ms() - run.started_on < STARTING_GRACE_MS
    try:
        proc = psutil.Process(pid)
        # A recycled pid belongs to a process started after the run.
        return bool(proc.create_time() * 1000 <= run.started_on + 5_000)
    except psutil.Error:
        return False


def reap_orphans(store: Store) -> list[JobRun]:
    """Mark active runs of this host whose job process is gone as FAILED."""
    reaped = []
    for run in store.active_runs():
        if runner_alive(run):
            continue
        run.state = RunState.FAILED
        run.completed_on = now_ms()
        run.error_message = (
            "the runner stopped without recording a final state (it was killed or the "
            "machine restarted); the job's outcome is unknown"
        )
        store.update_run(run)
        reaped.append(run)
    return reaped
