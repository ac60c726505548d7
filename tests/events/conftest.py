"""Fixtures of the event tests: a webhook receiver, and the CLI on SQLite alone for
checks that do not depend on the backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipetrail.config import Settings
from tests.conftest import Cli
from tests.events.receivers import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return Cli(Settings(home=tmp_path / "home"), tmp_path)
