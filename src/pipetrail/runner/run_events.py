"""Puts a run's state changes on the event bus and delivers its notifications itself.

Each stored state change of the run is published as a ``Job Run State Change`` event
(source ``pipetrail.jobs``). The run's :class:`~pipetrail.events.notifier.Notifier`
delivers in the background while the job runs (alarm changes, say), and once the final
state is published, the run spends at most ``PIPETRAIL_NOTIFY_TIMEOUT`` seconds
(default 10) delivering what it queued before ``pipetrail run`` exits. What is still
undelivered then stays queued for ``pipetrail events deliver`` or the server. Nothing
here may disturb the run: store and delivery errors are swallowed.
"""

from __future__ import annotations

import contextlib

from pipetrail.events.envelope import job_run_state_change
from pipetrail.events.notifier import Notifier
from pipetrail.model.errors import PipetrailError
from pipetrail.model.runs import JobRun
from pipetrail.runner.hooks import RunHook


class RunEvents(RunHook):
    def __init__(self, notifier: Notifier, workspace: str) -> None:
        self.notifier = notifier
        self.workspace = workspace

    def on_state(self, run: JobRun) -> None:
        with contextlib.suppress(PipetrailError):
            self.notifier.publish(job_run_state_change(run, self.workspace))
        if run.state.terminal:
            with contextlib.suppress(PipetrailError):
                self.notifier.flush()
            self.notifier.close()
