"""What a server process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from pipetrail.access.authorizer import PolicyCache
from pipetrail.config import Settings
from pipetrail.server.telemetry import Telemetry
from pipetrail.store import Store


@dataclass
class ServerState:
    settings: Settings
    store: Store
    cache: PolicyCache
    telemetry: Telemetry
    #: Names this process in leases and logs.
    instance_id: str

    def is_leader(self) -> bool:
        return self.telemetry.leader_check()


def server_state(request: Request) -> ServerState:
    state = request.app.state.pipetrail
    assert isinstance(state, ServerState)
    return state
