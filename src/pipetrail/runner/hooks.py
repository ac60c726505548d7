"""Run hooks: what else happens when a run changes state.

Built-in behaviour (insights on failure, state-change events, notifications) is written
as hooks, registered exactly as a user's own would be. ``on_start`` runs once the run is
recorded as RUNNING, with the launch (a hook can watch side-channel records or start its
own monitoring); ``before_final`` runs once the final state is known but before it is
stored, while the hook can still add to the run's ``details`` and log through the
launch; ``on_state`` runs after every stored state change, the final one included.
"""

from __future__ import annotations

from collections.abc import Callable

from pipetrail.model.runs import JobRun
from pipetrail.runner.launch import Launch


class RunHook:
    """Subclass and override what you need; every method does nothing by default."""

    def on_start(self, run: JobRun, launch: Launch) -> None:
        """Called once ``run`` is RUNNING, before the runner waits for the job."""

    def on_state(self, run: JobRun) -> None:
        """Called after each state change of ``run`` is stored."""

    def before_final(self, run: JobRun, launch: Launch) -> None:
        """Called with the final state set on ``run``, before it is stored."""


class CallbackHook(RunHook):
    """A hook from a plain ``on_state`` callable."""

    def __init__(self, callback: Callable[[JobRun], None]) -> None:
        self._callback = callback

    def on_state(self, run: JobRun) -> None:
        self._callback(run)
