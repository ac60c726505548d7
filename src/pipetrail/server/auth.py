"""Authentication of every API request, and the action context it runs in.

A request carries ``Authorization: Bearer pt_…`` (an API token). No token, a malformed
one, or one that is unknown, expired or revoked is answered 401 before any action runs;
otherwise the route's action runs in an :class:`ActionContext` whose caller is the
token's principal and whose authorizer holds that principal's policies, with the
request's condition keys (source address, user agent, TLS, principal tags, token issue
time).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipetrail.access.authenticate import authenticate
from pipetrail.actions.context import ActionContext, Caller
from pipetrail.model.errors import AuthenticationError
from pipetrail.server.state import server_state

bearer = HTTPBearer(auto_error=False, scheme_name="apiToken",
                    description="A Pipetrail API token: `Authorization: Bearer pt_…` "
                                "(pipetrail access create-token).")


def action_context(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ActionContext:
    """The authenticated caller's context; AuthenticationError (401) otherwise."""
    if credentials is None:
        raise AuthenticationError(
            "the request has no API token: send 'Authorization: Bearer <token>'")
    state = server_state(request)
    settings = state.settings
    found = authenticate(state.store, state.cache, credentials.credentials, settings.workspace)
    caller = Caller(
        found.identity,
        source_ip=request.client.host if request.client else "unknown",
        user_agent=request.headers.get("user-agent", "")[:1024],
        secure_transport=request.url.scheme == "https",
        context=found.context,
        request_id=getattr(request.state, "request_id", None),
    )
    return ActionContext(state.store, settings, caller, authorizer=found.authorizer)


#: A route's parameter for its action context: ``ctx: Ctx``.
Ctx = Annotated[ActionContext, Depends(action_context)]
