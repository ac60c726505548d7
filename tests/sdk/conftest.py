"""Fixtures of the SDK tests: a CLI per backend shared by a whole module, so a job run
(a Spark session, above all) is started once per module and backend, not once per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipetrail.config import Settings
from tests.backends import postgres_schema
from tests.conftest import BACKENDS, Cli


@pytest.fixture(scope="module", params=BACKENDS)
def module_cli(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    base = tmp_path_factory.mktemp(f"module-{request.param}")
    home = base / "home"
    if request.param == "sqlite":
        yield Cli(Settings(home=home), base)
        return
    with postgres_schema() as url:
        yield Cli(Settings(home=home, database_url=url), base)
