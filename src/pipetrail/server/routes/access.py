"""Access management: principals, policies, attachments, tokens, role sessions,
GetCallerIdentity and SimulatePrincipalPolicy."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from pipetrail.actions import access
from pipetrail.model.clock import now_ms
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/access", tags=["access"], responses=ERRORS)

Name = Annotated[str, Path(min_length=1, max_length=128)]


class NewPrincipal(BaseModel):
    principalName: str = Field(min_length=1, max_length=64)
    principalType: str = Field(default="User",
                               description="User, ServiceAccount, Role or LocalUser")
    description: str | None = Field(default=None, max_length=1000)
    tags: dict[str, str] = Field(default_factory=dict)


class PolicyBody(BaseModel):
    document: str | dict[str, Any] = Field(
        description="The policy: a JSON object or its text (IAM grammar)")
    description: str | None = Field(default=None, max_length=1000)


class NewToken(BaseModel):
    expiresIn: int | None = Field(default=None, ge=60, le=access.MAX_TOKEN_SECONDS,
                                  description="seconds; default 90 days")
    description: str | None = Field(default=None, max_length=1000)


class NewSession(BaseModel):
    durationSeconds: int | None = Field(default=None, ge=60,
                                        le=access.MAX_SESSION_SECONDS,
                                        description="seconds; default 1 hour")


class Simulation(BaseModel):
    principalName: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=256, examples=["jobs:GetJobRun"])
    resource: str = Field(default="*", min_length=1, max_length=2048)
    context: dict[str, str | list[str]] = Field(default_factory=dict)


def _new_token(new: access.NewToken) -> dict[str, Any]:
    return {**new.token.to_json(new.token.created_on), "token": new.text,
            "principalName": new.principal.name}


@router.get("/principals", summary="ListPrincipals")
def list_principals(ctx: Ctx) -> dict[str, Any]:
    return {"principals": [p.to_json(ctx.workspace) for p in access.list_principals(ctx)]}


@router.post("/principals", status_code=201, summary="CreatePrincipal")
def create_principal(ctx: Ctx, body: NewPrincipal) -> dict[str, Any]:
    principal = access.create_principal(ctx, body.principalName, body.principalType,
                                        body.description, body.tags)
    return {"principal": principal.to_json(ctx.workspace)}


@router.get("/principals/{name}", summary="GetPrincipal")
def get_principal(ctx: Ctx, name: Name) -> dict[str, Any]:
    return {"principal": access.get_principal(ctx, name)}


@router.delete("/principals/{name}", summary="DeletePrincipal")
def delete_principal(ctx: Ctx, name: Name) -> dict[str, Any]:
    access.delete_principal(ctx, name)
    return {"principalName": name, "deleted": True}


@router.get("/principals/{name}/tokens", summary="ListTokens")
def list_tokens(ctx: Ctx, name: Name) -> dict[str, Any]:
    now = now_ms()
    return {"tokens": [t.to_json(now) for t in access.list_tokens(ctx, name)]}


@router.post("/principals/{name}/tokens", status_code=201,
             summary="CreateToken: the token's text is in this answer only")
def create_token(ctx: Ctx, name: Name, body: NewToken) -> dict[str, Any]:
    return _new_token(access.create_token(ctx, name, body.expiresIn, body.description))


@router.delete("/tokens/{tokenId}", summary="RevokeToken")
def revoke_token(ctx: Ctx, token_id: Annotated[str, Path(alias="tokenId", min_length=1,
                                                          max_length=64)]) -> dict[str, Any]:
    token = access.revoke_token(ctx, token_id)
    return {"token": token.to_json(now_ms())}


@router.put("/principals/{name}/policies/{policyName}", summary="AttachPolicy")
def attach_policy(ctx: Ctx, name: Name,
                  policy_name: Annotated[str, Path(alias="policyName", min_length=1,
                                                   max_length=128)]) -> dict[str, Any]:
    attached = access.attach_policy(ctx, name, policy_name)
    return {"principalName": name, "policyName": policy_name, "attached": attached}


@router.delete("/principals/{name}/policies/{policyName}", summary="DetachPolicy")
def detach_policy(ctx: Ctx, name: Name,
                  policy_name: Annotated[str, Path(alias="policyName", min_length=1,
                                                   max_length=128)]) -> dict[str, Any]:
    access.detach_policy(ctx, name, policy_name)
    return {"principalName": name, "policyName": policy_name, "detached": True}


@router.get("/policies", summary="ListPolicies")
def list_policies(ctx: Ctx) -> dict[str, Any]:
    return {"policies": [p.to_json(ctx.workspace, document=False)
                         for p in access.list_policies(ctx)]}


@router.put("/policies/{name}", summary="PutPolicy: create or replace a stored policy")
def put_policy(ctx: Ctx, name: Name, body: PolicyBody) -> dict[str, Any]:
    document = body.document if isinstance(body.document, str) \
        else json.dumps(body.document)
    created = access.put_policy(ctx, name, document, body.description)
    return {"policyName": name, "created": created}


@router.get("/policies/{name}", summary="GetPolicy")
def get_policy(ctx: Ctx, name: Name) -> dict[str, Any]:
    return {"policy": access.get_policy(ctx, name).to_json(ctx.workspace)}


@router.delete("/policies/{name}", summary="DeletePolicy (only when attached to nobody)")
def delete_policy(ctx: Ctx, name: Name) -> dict[str, Any]:
    access.delete_policy(ctx, name)
    return {"policyName": name, "deleted": True}


@router.post("/roles/{name}/sessions", status_code=201,
             summary="AssumeRole: a session token acting with the role's policies")
def assume_role(ctx: Ctx, name: Name, body: NewSession) -> dict[str, Any]:
    return _new_token(access.assume_role(ctx, name, body.durationSeconds))


@router.get("/whoami", summary="GetCallerIdentity")
def whoami(ctx: Ctx) -> dict[str, Any]:
    return access.get_caller_identity(ctx)


@router.post("/simulate", summary="SimulatePrincipalPolicy: decide a request under a "
                                  "principal's policies")
def simulate(ctx: Ctx, body: Simulation) -> dict[str, Any]:
    return access.simulate_principal_policy(ctx, body.principalName, body.action,
                                            body.resource, body.context)
