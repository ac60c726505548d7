"""An API server on each backend, with an administrator's token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.store import Store, open_store
from tests.servers import ALLOW_ALL, ThreadedServer, principal_with_token


@dataclass
class Api:
    server: ThreadedServer
    ctx: ActionContext  # the local (bootstrap) context on the same store
    admin: str

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, token: str | None = None):  # type: ignore[no-untyped-def]
        return self.server.client(token)


@pytest.fixture
def api(store: Store, settings: Settings, ctx: ActionContext) -> Iterator[Api]:
    admin = principal_with_token(ctx, "admin", ALLOW_ALL)
    server = ThreadedServer(settings, store).start()
    yield Api(server, ctx, admin)
    server.stop()


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """The same on SQLite only, for behaviour that does not depend on the store."""
    settings = Settings(home=tmp_path / "home")
    store = open_store(settings)
    ctx = ActionContext.local(store, settings)
    admin = principal_with_token(ctx, "admin", ALLOW_ALL)
    server = ThreadedServer(settings, store).start()
    yield Api(server, ctx, admin)
    server.stop()
    store.close()
