"""The caller and the audit recording that wraps every action."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent, EventType, Resource
from pipetrail.model.errors import PipetrailError
from pipetrail.model.identity import Identity, local_identity, user_agent
from pipetrail.store import Store
from pipetrail.trail.recorder import record


@dataclass
class Caller:
    """Who is calling and from where."""

    identity: Identity
    source_ip: str = "127.0.0.1"
    user_agent: str = field(default_factory=user_agent)


@dataclass
class Call:
    """One action in progress; the body fills in resources and the response."""

    source: str
    name: str
    read_only: bool
    params: dict[str, Any]
    resources: list[Resource] = field(default_factory=list)
    response: dict[str, Any] | None = None
    run_id: str | None = None


@dataclass
class ActionContext:
    store: Store
    settings: Settings
    caller: Caller

    @classmethod
    def local(cls, store: Store, settings: Settings, component: str = "cli") -> ActionContext:
        """A context for the operating-system user running this process."""
        return cls(store, settings, Caller(local_identity(settings.workspace),
                                           user_agent=user_agent(component)))

    @property
    def workspace(self) -> str:
        return self.settings.workspace

    @contextlib.contextmanager
    def call(self, source: str, name: str, *, read_only: bool,
             params: dict[str, Any] | None = None,
             event_type: EventType = "ApiCall") -> Iterator[Call]:
        """Run the body as action ``name`` of ``source`` and record it in the trail.

        The event is recorded whether the body succeeds or raises; a failure is recorded
        with the error's code and message and then re-raised. Read-only calls do not
        record ``responseElements`` (as CloudTrail).
        """
        call = Call(source=f"{source}.pipetrail", name=name, read_only=read_only,
                    params={k: v for k, v in (params or {}).items() if v is not None})
        error: BaseException | None = None
        try:
            yield call
        except BaseException as exc:
            error = exc
            raise
        finally:
            record(self.store, self._event(call, event_type, error))

    def _event(self, call: Call, event_type: EventType, error: BaseException | None
               ) -> AuditEvent:
        code = message = None
        if error is not None:
            if isinstance(error, PipetrailError):
                code, message = error.code, str(error)
            elif isinstance(error, KeyboardInterrupt):
                code, message = "Interrupted", "interrupted by the caller"
            else:
                code, message = "InternalFailure", type(error).__name__
        return AuditEvent(
            event_source=call.source, event_name=call.name, identity=self.caller.identity,
            event_type=event_type, read_only=call.read_only,
            request_parameters=call.params or None,
            response_elements=None if call.read_only or error else call.response,
            error_code=code, error_message=message, resources=call.resources,
            source_ip=self.caller.source_ip, user_agent=self.caller.user_agent,
            run_id=call.run_id,
        )
