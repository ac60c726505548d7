"""An API server on each backend, with an administrator's token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.store import Store
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
