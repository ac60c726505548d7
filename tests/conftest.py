"""Shared fixtures: settings, stores and the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.store import Store, open_store
from tests.backends import postgres_schema

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh store: SQLite under a temporary home, or a fresh
    PostgreSQL schema."""
    home = tmp_path / "home"
    if request.param == "sqlite":
        yield Settings(home=home)
        return
    with postgres_schema() as url:
        yield Settings(home=home, database_url=url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = open_store(settings)
    yield opened
    opened.close()


@pytest.fixture
def ctx(store: Store, settings: Settings) -> ActionContext:
    return ActionContext.local(store, settings)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs ``python -m pipetrail.cli`` as a user would, against ``settings``."""

    settings: Settings
    cwd: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env["PIPETRAIL_HOME"] = str(self.settings.home)
        if self.settings.database_url:
            env["PIPETRAIL_DATABASE_URL"] = self.settings.database_url
        env.update(extra or {})
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "pipetrail.cli", *args]

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
                 input: str | None = None) -> Result:
        proc = subprocess.run(self.command(*args), capture_output=True, text=True,
                              env=self.env(env), cwd=self.cwd, timeout=timeout, input=input)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(env),
                                cwd=self.cwd)


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Cli:
    return Cli(settings, tmp_path)


ScriptFactory = Callable[..., Path]


@pytest.fixture
def script(tmp_path: Path) -> ScriptFactory:
    """Write a job script: ``script("print(1)")`` returns its path."""
    counter = iter(range(1000))

    def write(body: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"job{next(counter)}.py")
        path.write_text(body)
        return path

    return write
