"""The caller, the authorisation and the audit recording that wrap every action.

``ctx.call(source, name, resources=...)`` first decides whether the caller may perform
``<source>:<name>`` on the action's resources (when the context has an authorizer: the
server always, the CLI when the local user has policies), then runs the body, and
records the call in the trail, successful, failed or denied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipetrail.access.authorizer import Authorizer, local_authorizer
from pipetrail.access.context import (
    SECURE_TRANSPORT,
    SOURCE_IP,
    USER_AGENT,
    ContextValue,
)
from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent, EventType, Resource
from pipetrail.model.errors import PipetrailError
from pipetrail.model.identity import Identity, local_identity, user_agent
from pipetrail.store import Store
from pipetrail.trail.recorder import record

#: What an action names up front: its resources, or a function that looks them up.
Resources = Sequence[Resource] | Callable[[], Sequence[Resource]]


@dataclass
class Caller:
    """Who is calling and from where, with the request's further condition keys
    (principal tags, token facts) for policies to test."""

    identity: Identity
    source_ip: str = "127.0.0.1"
    user_agent: str = field(default_factory=user_agent)
    secure_transport: bool = False
    context: dict[str, ContextValue] = field(default_factory=dict)
    #: The request's id (the server's ``X-Request-Id``), recorded as ``requestID``.
    request_id: str | None = None

    def condition_keys(self) -> dict[str, ContextValue]:
        return {SOURCE_IP: self.source_ip, USER_AGENT: self.user_agent,
                SECURE_TRANSPORT: "true" if self.secure_transport else "false",
                **self.context}


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
    #: None: every action is allowed (embedded mode without policies).
    authorizer: Authorizer | None = None

    @classmethod
    def local(cls, store: Store, settings: Settings, component: str = "cli") -> ActionContext:
        """A context for the operating-system user running this process.

        The local user may do everything, unless the store has a ``LocalUser``
        principal of the same name: then its policies apply.
        """
        identity = local_identity(settings.workspace)
        return cls(store, settings, Caller(identity, user_agent=user_agent(component)),
                   authorizer=local_authorizer(store, identity))

    @property
    def workspace(self) -> str:
        return self.settings.workspace

    @contextlib.contextmanager
    def call(self, source: str, name: str, *, read_only: bool,
             params: dict[str, Any] | None = None, resources: Resources | None = None,
             condition_keys: Mapping[str, ContextValue] | None = None,
             event_type: EventType = "ApiCall", event_id: str | None = None
             ) -> Iterator[Call]:
        """Run the body as action ``name`` of ``source`` and record it in the trail.

        Before the body runs, the caller must be allowed ``<source>:<name>`` on every
        one of ``resources`` (or on ``*`` when the action names none); a function given
        as ``resources`` is called first to look them up, and if that lookup fails (no
        such run …), the request is decided for ``*`` before the lookup's error is
        given, so that only callers allowed the action everywhere learn what exists.
        ``condition_keys`` adds the request's own keys (``access:PolicyArn`` …). A
        refusal raises AccessDeniedError.

        The event is recorded whether the body succeeds or raises; a failure is recorded
        with the error's code and message and then re-raised. Read-only calls do not
        record ``responseElements`` (as CloudTrail). ``event_id`` gives the event a
        fixed id, for calls that may be repeated but must be recorded once.
        """
        call = Call(source=f"{source}.pipetrail", name=name, read_only=read_only,
                    params={k: v for k, v in (params or {}).items() if v is not None})
        error: BaseException | None = None
        try:
            self._authorize(call, f"{source}:{name}", resources, condition_keys)
            yield call
        except BaseException as exc:
            error = exc
            raise
        finally:
            record(self.store, self._event(call, event_type, error, event_id))

    def authorize(self, action: str, resources: Sequence[str],
                  condition_keys: Mapping[str, ContextValue] | None = None) -> None:
        """Raise AccessDeniedError unless the caller may perform ``action`` on every
        one of ``resources`` (ARNs; none means ``*``)."""
        if self.authorizer is not None:
            keys = self.caller.condition_keys()
            keys.update(condition_keys or {})
            self.authorizer.authorize(self.caller.identity, action, resources, keys)

    def _authorize(self, call: Call, action: str, resources: Resources | None,
                   condition_keys: Mapping[str, ContextValue] | None) -> None:
        try:
            named = list(resources() if callable(resources) else resources or ())
        except PipetrailError:
            self.authorize(action, (), condition_keys)
            raise
        call.resources = named
        self.authorize(action, [r.arn for r in named], condition_keys)

    def _event(self, call: Call, event_type: EventType, error: BaseException | None,
               event_id: str | None) -> AuditEvent:
        code = message = None
        if error is not None:
            if isinstance(error, PipetrailError):
                code, message = error.code, str(error)
            elif isinstance(error, KeyboardInterrupt):
                code, message = "Interrupted", "interrupted by the caller"
            else:
                code, message = "InternalFailure", type(error).__name__
        event = AuditEvent(
            event_source=call.source, event_name=call.name, identity=self.caller.identity,
            event_type=event_type, read_only=call.read_only,
            request_parameters=call.params or None,
            response_elements=None if call.read_only or error else call.response,
            error_code=code, error_message=message, resources=call.resources,
            source_ip=self.caller.source_ip, user_agent=self.caller.user_agent,
            run_id=call.run_id,
        )
        if event_id is not None:
            event.event_id = event_id
        if self.caller.request_id is not None:
            event.request_id = self.caller.request_id
        return event
