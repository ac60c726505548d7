"""Access management: principals, policies and their attachments, API tokens, role
sessions, and simulation of a principal's policies.

Resources are IAM ARNs: ``arn:pipetrail:iam:<workspace>:user/<name>`` (``role/``,
``service-account/``) for principals and their tokens, ``…:policy/<name>`` for policies.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipetrail.access import AccessRequest, PolicySet, missing_context_keys, parse_policy
from pipetrail.access.context import ContextValue
from pipetrail.access.tokens import issue_token
from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import policy_arn, principal_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import iso_from_ms, now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import ARN_KINDS
from pipetrail.model.principals import (
    ApiToken,
    Principal,
    StoredPolicy,
    check_description,
    check_policy_name,
    check_principal_name,
    check_principal_type,
    check_tags,
)

SOURCE = "access"
POLICY_ARN_KEY = "access:PolicyArn"
DEFAULT_TOKEN_SECONDS = 90 * 86400
MAX_TOKEN_SECONDS = 366 * 86400
DEFAULT_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS = 12 * 3600
_ID_PREFIX = {"User": "PTU", "ServiceAccount": "PTS", "Role": "PTR", "LocalUser": "PTL"}


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``text`` is the secret, shown this once and never again."""

    token: ApiToken
    text: str
    principal: Principal


def _principal_resource(ctx: ActionContext, principal: Principal) -> Resource:
    return Resource(f"Pipetrail::IAM::{principal.type}", principal.arn(ctx.workspace))


def _principal_resources(ctx: ActionContext, name: str) -> list[Resource]:
    return [_principal_resource(ctx, ctx.store.get_principal(name))]


def _policy_resource(ctx: ActionContext, name: str) -> Resource:
    return Resource("Pipetrail::IAM::Policy", policy_arn(ctx.workspace, name))


# -- principals ---------------------------------------------------------------------------

def create_principal(ctx: ActionContext, name: str, kind: str = "User",
                     description: str | None = None,
                     tags: dict[str, str] | None = None) -> Principal:
    """CreatePrincipal: a user, service account, role or local user."""
    params = {"principalName": name, "principalType": kind, "description": description,
              "tags": tags or None}
    arn = principal_arn(ctx.workspace, ARN_KINDS.get(kind, "principal"), name)
    with ctx.call(SOURCE, "CreatePrincipal", read_only=False, params=params,
                  resources=[Resource(f"Pipetrail::IAM::{kind}", arn)]) as call:
        check_principal_name(name)
        check_principal_type(kind)
        principal = Principal(principal_id=_ID_PREFIX[kind] + secrets.token_hex(8).upper(),
                              name=name, type=kind, created_on=now_ms(),
                              description=check_description(description),
                              tags=check_tags(dict(tags or {})))
        ctx.store.create_principal(principal)
        call.response = principal.to_json(ctx.workspace)
        return principal


def get_principal(ctx: ActionContext, name: str) -> dict[str, Any]:
    """GetPrincipal: the principal with its attached policies' names and its tokens."""
    with ctx.call(SOURCE, "GetPrincipal", read_only=True, params={"principalName": name},
                  resources=lambda: _principal_resources(ctx, name)):
        principal = ctx.store.get_principal(name)
        now = now_ms()
        data = principal.to_json(ctx.workspace)
        data["attachedPolicies"] = [p.name for p in
                                    ctx.store.attached_policies(principal.principal_id)]
        data["tokens"] = [t.to_json(now) for t in ctx.store.list_tokens(principal.principal_id)]
        return data


def list_principals(ctx: ActionContext) -> list[Principal]:
    with ctx.call(SOURCE, "ListPrincipals", read_only=True):
        return ctx.store.list_principals()


def delete_principal(ctx: ActionContext, name: str) -> Principal:
    """DeletePrincipal: with its attachments and tokens (which stop working at once)."""
    with ctx.call(SOURCE, "DeletePrincipal", read_only=False, params={"principalName": name},
                  resources=lambda: _principal_resources(ctx, name)) as call:
        principal = ctx.store.delete_principal(name)
        call.response = {"principalName": principal.name, "deleted": True}
        return principal


# -- policies -----------------------------------------------------------------------------

def put_policy(ctx: ActionContext, name: str, document: str,
               description: str | None = None) -> bool:
    """PutPolicy: create or replace a stored policy (checked first); True when created."""
    params = {"policyName": name, "description": description}
    with ctx.call(SOURCE, "PutPolicy", read_only=False, params=params,
                  resources=[_policy_resource(ctx, name)]) as call:
        check_policy_name(name)
        check_description(description)
        parse_policy(document, source=name)
        created = ctx.store.put_policy(name, document, description)
        call.response = {"policyName": name, "created": created,
                         "arn": policy_arn(ctx.workspace, name)}
        return created


def get_policy(ctx: ActionContext, name: str) -> StoredPolicy:
    with ctx.call(SOURCE, "GetPolicy", read_only=True, params={"policyName": name},
                  resources=[_policy_resource(ctx, name)]):
        return ctx.store.get_policy(name)


def list_policies(ctx: ActionContext) -> list[StoredPolicy]:
    with ctx.call(SOURCE, "ListPolicies", read_only=True):
        return ctx.store.list_policies()


def delete_policy(ctx: ActionContext, name: str) -> None:
    """DeletePolicy: only a policy attached to no principal."""
    with ctx.call(SOURCE, "DeletePolicy", read_only=False, params={"policyName": name},
                  resources=[_policy_resource(ctx, name)]) as call:
        ctx.store.delete_policy(name)
        call.response = {"policyName": name, "deleted": True}


def attach_policy(ctx: ActionContext, principal_name: str, policy_name: str) -> bool:
    """AttachPolicy: authorised on the principal, with ``access:PolicyArn`` the policy's
    ARN (so a policy can limit which policies someone may hand out)."""
    params = {"principalName": principal_name, "policyName": policy_name}
    keys = {POLICY_ARN_KEY: policy_arn(ctx.workspace, policy_name)}
    with ctx.call(SOURCE, "AttachPolicy", read_only=False, params=params,
                  resources=lambda: _principal_resources(ctx, principal_name),
                  condition_keys=keys) as call:
        principal = ctx.store.get_principal(principal_name)
        attached = ctx.store.attach_policy(principal.principal_id, policy_name)
        call.response = {"principalName": principal_name, "policyName": policy_name,
                         "attached": attached}
        return attached


def detach_policy(ctx: ActionContext, principal_name: str, policy_name: str) -> None:
    params = {"principalName": principal_name, "policyName": policy_name}
    keys = {POLICY_ARN_KEY: policy_arn(ctx.workspace, policy_name)}
    with ctx.call(SOURCE, "DetachPolicy", read_only=False, params=params,
                  resources=lambda: _principal_resources(ctx, principal_name),
                  condition_keys=keys) as call:
        principal = ctx.store.get_principal(principal_name)
        ctx.store.detach_policy(principal.principal_id, policy_name)
        call.response = {"principalName": principal_name, "policyName": policy_name,
                         "detached": True}


# -- tokens -------------------------------------------------------------------------------

def _expiry(seconds: int | None, default: int, maximum: int, what: str) -> int:
    value = default if seconds is None else seconds
    if not 60 <= value <= maximum:
        raise ValidationError(f"{what} must last between 60 and {maximum} seconds, "
                              f"not {value}")
    return value


def create_token(ctx: ActionContext, principal_name: str, expires_in: int | None = None,
                 description: str | None = None) -> NewToken:
    """CreateToken: a new API token for a user or service account. The token's text is
    returned this once; the trail records only its id."""
    params = {"principalName": principal_name, "expiresIn": expires_in,
              "description": description}
    with ctx.call(SOURCE, "CreateToken", read_only=False, params=params,
                  resources=lambda: _principal_resources(ctx, principal_name)) as call:
        seconds = _expiry(expires_in, DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS, "a token")
        check_description(description)
        principal = ctx.store.get_principal(principal_name)
        if principal.type == "Role":
            raise ValidationError(
                f"{principal_name} is a role: roles have no tokens of their own; "
                "assume the role to get a session token")
        if principal.type == "LocalUser":
            raise ValidationError(
                f"{principal_name} is a local user: its policies apply to the CLI in "
                "embedded mode; create a User or ServiceAccount for API access")
        issued = issue_token()
        now = now_ms()
        token = ApiToken(token_id=issued.token_id, principal_id=principal.principal_id,
                         created_on=now, expires_on=now + seconds * 1000,
                         description=description)
        ctx.store.create_token(token, issued.secret_hash)
        call.response = {"tokenId": token.token_id, "expiresOn": iso_from_ms(token.expires_on)}
        return NewToken(token, issued.text, principal)


def list_tokens(ctx: ActionContext, principal_name: str) -> list[ApiToken]:
    with ctx.call(SOURCE, "ListTokens", read_only=True,
                  params={"principalName": principal_name},
                  resources=lambda: _principal_resources(ctx, principal_name)):
        principal = ctx.store.get_principal(principal_name)
        return ctx.store.list_tokens(principal.principal_id)


def _token_owner_resources(ctx: ActionContext, token_id: str) -> list[Resource]:
    token = ctx.store.get_token(token_id)
    return [_principal_resource(ctx, ctx.store.get_principal_by_id(token.principal_id))]


def revoke_token(ctx: ActionContext, token_id: str) -> ApiToken:
    """RevokeToken: the token stops working at once, on every server."""
    with ctx.call(SOURCE, "RevokeToken", read_only=False, params={"tokenId": token_id},
                  resources=lambda: _token_owner_resources(ctx, token_id)) as call:
        token = ctx.store.revoke_token(token_id)
        call.response = {"tokenId": token_id,
                         "revokedOn": iso_from_ms(token.revoked_on or now_ms())}
        return token


def assume_role(ctx: ActionContext, role_name: str, duration: int | None = None) -> NewToken:
    """AssumeRole: a session token that acts with the role's policies, for up to 12 h.
    The session's identity is ``AssumedRole`` ``<role>/<caller>``."""
    params = {"roleName": role_name, "durationSeconds": duration}
    caller = ctx.caller.identity
    with ctx.call(SOURCE, "AssumeRole", read_only=False, params=params,
                  resources=lambda: _principal_resources(ctx, role_name)) as call:
        seconds = _expiry(duration, DEFAULT_SESSION_SECONDS, MAX_SESSION_SECONDS,
                          "a role session")
        role = ctx.store.get_principal(role_name)
        if role.type != "Role":
            raise ValidationError(f"{role_name} is not a role")
        if caller.type == "AssumedRole":
            raise ValidationError("a role session cannot assume another role")
        issued = issue_token()
        now = now_ms()
        token = ApiToken(
            token_id=issued.token_id, principal_id=role.principal_id, created_on=now,
            expires_on=now + seconds * 1000, description=f"session of {caller.user_name}",
            session={"roleName": role.name, "sourceName": caller.user_name,
                     "sourcePrincipalId": caller.principal_id, "sourceType": caller.type})
        ctx.store.create_token(token, issued.secret_hash)
        call.response = {"tokenId": token.token_id, "expiresOn": iso_from_ms(token.expires_on),
                         "assumedRoleUser": f"{role.name}/{caller.user_name}"}
        return NewToken(token, issued.text, role)


def get_caller_identity(ctx: ActionContext) -> dict[str, Any]:
    """GetCallerIdentity: who the caller is (resource: the caller's own ARN)."""
    identity = ctx.caller.identity
    resource = Resource("Pipetrail::IAM::Identity", identity.arn)
    with ctx.call(SOURCE, "GetCallerIdentity", read_only=True, resources=[resource]):
        return {"userName": identity.user_name, "principalId": identity.principal_id,
                "type": identity.type, "arn": identity.arn, "workspace": identity.workspace,
                "tokenId": identity.access_key_id}


def simulate_principal_policy(ctx: ActionContext, principal_name: str, action: str,
                              resource: str = "*",
                              context: Mapping[str, ContextValue] | None = None
                              ) -> dict[str, Any]:
    """SimulatePrincipalPolicy: decide a request under a stored principal's policies."""
    params = {"principalName": principal_name, "actionName": action, "resourceArn": resource}
    with ctx.call(SOURCE, "SimulatePrincipalPolicy", read_only=True, params=params,
                  resources=lambda: _principal_resources(ctx, principal_name)):
        principal = ctx.store.get_principal(principal_name)
        stored = ctx.store.attached_policies(principal.principal_id)
        policies = PolicySet([parse_policy(p.document, source=p.name) for p in stored])
        request = AccessRequest(action, resource, context or {},
                                principal=principal.identity(ctx.workspace))
        result = policies.evaluate(request)
        matched = [{**m.to_record(), "source": stored[m.policy_index].name}
                   for m in result.statements]
        return {"decision": str(result.decision), "action": action, "resource": resource,
                "principalName": principal.name, "matchedStatements": matched,
                "missingContextKeys": missing_context_keys(policies, request)}
