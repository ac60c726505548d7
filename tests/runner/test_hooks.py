"""Run hooks see a run start (with its launch), its side-channel records, and its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.jobs import run_job
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch, RunOptions


class Recorder(RunHook):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.records: list[dict[str, Any]] = []
        self.tail: list[str] = []

    def on_start(self, run: JobRun, launch: Launch) -> None:
        self.events.append(f"start {run.state.value}")
        launch.watch("env", self.records.append)

    def before_final(self, run: JobRun, launch: Launch) -> None:
        self.events.append(f"final {run.state.value}")
        self.tail = list(launch.error_tail)
        run.details["recorder"] = len(self.records)

    def on_state(self, run: JobRun) -> None:
        self.events.append(f"state {run.state.value}")


def test_hooks_get_start_records_and_final_state(ctx: ActionContext, tmp_path: Path,
                                                 monkeypatch: Any) -> None:
    from pipetrail.actions import jobs

    hook = Recorder()
    monkeypatch.setattr(jobs, "run_hooks", lambda _ctx: [hook])
    script = tmp_path / "job.py"
    script.write_text("import sys, time\ntime.sleep(0.5)\nprint('bad', file=sys.stderr)\n"
                      "sys.exit(2)\n")
    run = run_job(ctx, RunOptions(script=script, echo=False, sample_interval=0.2))
    assert run.state is RunState.FAILED
    assert hook.events == ["state STARTING", "state RUNNING", "start RUNNING", "final FAILED",
                           "state FAILED"]
    assert len(hook.records) == 1 and hook.records[0]["python"]
    assert hook.tail == ["bad"]
    assert ctx.store.get_run(run.run_id).details["recorder"] == 1


def test_a_failing_hook_does_not_lose_the_run(ctx: ActionContext, tmp_path: Path,
                                              monkeypatch: Any) -> None:
    from pipetrail.actions import jobs

    class Broken(RunHook):
        def on_start(self, run: JobRun, launch: Launch) -> None:
            raise RuntimeError("start bug")

        def before_final(self, run: JobRun, launch: Launch) -> None:
            raise RuntimeError("final bug")

    monkeypatch.setattr(jobs, "run_hooks", lambda _ctx: [Broken()])
    script = tmp_path / "ok.py"
    script.write_text("print('ok')\n")
    run = run_job(ctx, RunOptions(script=script, echo=False, sample_interval=0.2))
    assert ctx.store.get_run(run.run_id).state is RunState.SUCCEEDED
    errors = [e.message for e in ctx.store.get_log_events("/pipetrail/jobs/error", run.run_id)]
    assert any("start bug" in e for e in errors) and any("final bug" in e for e in errors)
