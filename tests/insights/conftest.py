"""Running real failing job scripts under the runner, in-process, on SQLite.

The rules do not depend on the store backend, so the category matrix runs on SQLite
only; the end-to-end tests (``runs show``, ``runs compare``) run on both backends.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.jobs import run_job
from pipetrail.config import Settings
from pipetrail.model.runs import JobRun
from pipetrail.runner.launch import RunOptions
from pipetrail.store import Store, open_store

RunScript = Callable[..., JobRun]


@pytest.fixture
def sqlite_ctx(tmp_path: Path) -> Iterator[ActionContext]:
    settings = Settings(home=tmp_path / "home", sample_interval=0.2)
    store: Store = open_store(settings)
    yield ActionContext.local(store, settings)
    store.close()


@pytest.fixture
def run_script(sqlite_ctx: ActionContext, tmp_path: Path) -> RunScript:
    """``run_script(body, *args, timeout=None, job=None)``: write the job script, run it
    under the runner (quietly) and return the final run, details included."""
    counter = iter(range(1000))

    def run(body: str, *args: str, timeout: float | None = None, job: str | None = None,
            name: str | None = None) -> JobRun:
        path = tmp_path / (name or f"job{next(counter)}.py")
        path.write_text(textwrap.dedent(body).lstrip())
        options = RunOptions(script=path, arguments=list(args), timeout=timeout,
                             sample_interval=0.2, echo=False,
                             spark_events_dir=sqlite_ctx.settings.spark_events_dir)
        return run_job(sqlite_ctx, options, job)

    return run


def insight_of(run: JobRun) -> dict[str, Any]:
    insight = run.details.get("insights")
    assert isinstance(insight, dict), f"no insight for {run.state}: {run.error_message}"
    return insight


def failing_line(insight: dict[str, Any]) -> int | None:
    location = insight.get("location") or {}
    return location.get("line")
