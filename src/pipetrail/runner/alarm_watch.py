"""Evaluates the alarms on a run's job while the run lasts, without any server.

A ``pipetrail run`` evaluates, every second (just after the second), the alarms whose
dimensions name its job or its run, and once more after the final state, so alarms on
the run's own metrics (memory, CPU, failures) change state — and act — while it runs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipetrail.model.errors import PipetrailError
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.hooks import RunHook

if TYPE_CHECKING:
    from pipetrail.alarms.definition import MetricAlarm
    from pipetrail.alarms.evaluator import AlarmEvaluator, ChangeListener
    from pipetrail.store import Store

INTERVAL_SECONDS = 1.0
SETTLE_SECONDS = 0.1


class AlarmWatch(RunHook):
    def __init__(self, store: Store, listeners: Sequence[ChangeListener] = (),
                 interval: float = INTERVAL_SECONDS) -> None:
        self._store = store
        self._listeners = list(listeners)
        self._evaluator: AlarmEvaluator | None = None
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run: JobRun | None = None

    def _concerns(self, alarm: MetricAlarm) -> bool:
        run = self._run
        if run is None:
            return False
        dims = alarm.dimensions
        return dims.get("JobName") == run.job_name or dims.get("JobRunId") == run.run_id

    def evaluate(self) -> None:
        # An unreachable store or a bad alarm must not disturb the run.
        with contextlib.suppress(PipetrailError):
            if self._evaluator is None:
                if not self._store.list_alarms(limit=1):
                    return  # no alarms: the alarm modules are not even loaded
                from pipetrail.alarms.evaluator import AlarmEvaluator

                self._evaluator = AlarmEvaluator(self._store, self._listeners)
            self._evaluator.evaluate_all(only=self._concerns)

    def on_state(self, run: JobRun) -> None:
        self._run = run
        if run.state is RunState.RUNNING and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="pipetrail-alarms",
                                            daemon=True)
            self._thread.start()
        elif run.state.terminal:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(10)
            self.evaluate()

    def _loop(self) -> None:
        while not self._stop.wait(self._next_wait()):
            self.evaluate()

    def _next_wait(self) -> float:
        """Until just after the next whole interval of clock time: periods end on whole
        seconds, so a period is evaluated as soon as it is complete (its last datums
        get ``SETTLE_SECONDS`` to be stored)."""
        return self._interval - time.time() % self._interval + SETTLE_SECONDS
