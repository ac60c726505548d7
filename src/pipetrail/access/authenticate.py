"""From an API token to the caller: its identity, its policies and its condition keys.

One store query per request reads the token, its principal and the access generation;
the principal's parsed policies come from a :class:`PolicyCache` while the generation
is unchanged, so a change to any policy, attachment or token applies to the next
request on every server sharing the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipetrail.access.authorizer import PolicyAuthorizer, PolicyCache
from pipetrail.access.context import ContextValue
from pipetrail.access.tokens import parse_token, secret_matches
from pipetrail.model.arn import principal_arn
from pipetrail.model.clock import cloudtrail_time, iso_from_ms, now_ms
from pipetrail.model.errors import AuthenticationError
from pipetrail.model.identity import Identity
from pipetrail.model.principals import ApiToken, Principal
from pipetrail.store import Store

TOKEN_ISSUE_TIME = "pipetrail:TokenIssueTime"
PRINCIPAL_TAG = "pipetrail:PrincipalTag/"


@dataclass(frozen=True)
class Authenticated:
    identity: Identity
    authorizer: PolicyAuthorizer
    context: dict[str, ContextValue] = field(default_factory=dict)


def authenticate(store: Store, cache: PolicyCache, token_text: str, workspace: str,
                 now: int | None = None) -> Authenticated:
    """The caller a token stands for; AuthenticationError when it is not valid now."""
    token = parse_token(token_text)
    found = store.token_record(token.token_id)
    if found is None or not secret_matches(found.secret_hash, token):
        raise AuthenticationError("the API token is not valid")
    current = now_ms() if now is None else now
    if found.token.revoked_on is not None:
        raise AuthenticationError(
            f"the API token {token.token_id} was revoked on {iso_from_ms(found.token.revoked_on)}")
    if current >= found.token.expires_on:
        raise AuthenticationError(
            f"the API token {token.token_id} expired on {iso_from_ms(found.token.expires_on)}")
    policies = cache.policies(found.principal.principal_id, found.generation)
    context: dict[str, ContextValue] = {
        TOKEN_ISSUE_TIME: cloudtrail_time(found.token.created_on)}
    for key, value in found.principal.tags.items():
        context[PRINCIPAL_TAG + key] = value
    return Authenticated(token_identity(found.principal, found.token, workspace),
                         PolicyAuthorizer(policies), context)


def token_identity(principal: Principal, token: ApiToken, workspace: str) -> Identity:
    """The ``userIdentity`` of calls made with ``token``."""
    attributes = {"creationDate": cloudtrail_time(token.created_on),
                  "mfaAuthenticated": "false"}
    session = token.session
    if session is None:
        return Identity(type=principal.type, principal_id=principal.principal_id,
                        user_name=principal.name, workspace=workspace,
                        session={"attributes": attributes}, access_key_id=token.token_id)
    source = session.get("sourceName", "unknown")
    return Identity(
        type="AssumedRole", principal_id=f"{principal.principal_id}:{source}",
        user_name=f"{principal.name}/{source}", workspace=workspace,
        access_key_id=token.token_id,
        session={
            "attributes": attributes,
            "sessionIssuer": {"type": "Role", "principalId": principal.principal_id,
                              "arn": principal_arn(workspace, "role", principal.name),
                              "accountId": workspace, "userName": principal.name},
            "sourceIdentity": source,
        })
