"""Principals, stored policies and API tokens: who may call Pipetrail, and with what rights.

A principal is a user (a person), a service account (a program, such as a remote job's
agent), a role (a set of rights that users assume for a while) or a local user (the
operating-system user of embedded mode, when a policy is to apply to them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipetrail.model.arn import policy_arn, principal_arn
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import ARN_KINDS, Identity

PRINCIPAL_TYPES = ("User", "ServiceAccount", "Role", "LocalUser")
MAX_TAGS = 50
_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}\Z")
_POLICY_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,128}\Z")
_TAG_KEY = re.compile(r"[A-Za-z0-9 +=,.@_:/-]{1,128}\Z")
MAX_TAG_VALUE = 256
MAX_DESCRIPTION = 1000


def check_principal_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"principal name {name!r} must be 1-64 characters of letters, digits and "
            "+=,.@_-")
    return name


def check_policy_name(name: str) -> str:
    if not isinstance(name, str) or not _POLICY_NAME.match(name):
        raise ValidationError(
            f"policy name {name!r} must be 1-128 characters of letters, digits and +=,.@_-")
    return name


def check_principal_type(kind: str) -> str:
    if kind not in PRINCIPAL_TYPES:
        raise ValidationError(
            f"principal type {kind!r} must be one of {', '.join(PRINCIPAL_TYPES)}")
    return kind


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"a principal has at most {MAX_TAGS} tags")
    for key, value in tags.items():
        if not isinstance(key, str) or not _TAG_KEY.match(key):
            raise ValidationError(
                f"tag key {key!r} must be 1-128 letters, digits, spaces or +=,.@_:/-")
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            raise ValidationError(f"tag {key!r}: the value must be text of at most "
                                  f"{MAX_TAG_VALUE} characters")
    return tags


def check_description(text: str | None) -> str | None:
    if text is not None and len(text) > MAX_DESCRIPTION:
        raise ValidationError(f"a description has at most {MAX_DESCRIPTION} characters")
    return text


@dataclass
class Principal:
    principal_id: str
    name: str
    type: str
    created_on: int
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def arn(self, workspace: str) -> str:
        return principal_arn(workspace, ARN_KINDS.get(self.type, self.type.lower()), self.name)

    def identity(self, workspace: str) -> Identity:
        return Identity(type=self.type, principal_id=self.principal_id, user_name=self.name,
                        workspace=workspace)

    def to_json(self, workspace: str) -> dict[str, Any]:
        return {"principalName": self.name, "principalId": self.principal_id,
                "principalType": self.type, "arn": self.arn(workspace),
                "createdOn": iso_from_ms(self.created_on), "description": self.description,
                "tags": dict(self.tags)}


@dataclass
class StoredPolicy:
    name: str
    document: str
    created_on: int
    updated_on: int
    description: str | None = None

    def to_json(self, workspace: str, *, document: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policyName": self.name, "arn": policy_arn(workspace, self.name),
            "createdOn": iso_from_ms(self.created_on),
            "updatedOn": iso_from_ms(self.updated_on), "description": self.description}
        if document:
            data["document"] = self.document
        return data


@dataclass
class ApiToken:
    """An API token's record; its secret is never stored, only a hash of it."""

    token_id: str
    principal_id: str
    created_on: int
    expires_on: int
    description: str | None = None
    revoked_on: int | None = None
    # For a role session: {"roleName", "sourcePrincipalId", "sourceName", "sourceType"}.
    session: dict[str, str] | None = None

    def status(self, now: int) -> str:
        if self.revoked_on is not None:
            return "revoked"
        if now >= self.expires_on:
            return "expired"
        return "active"

    def to_json(self, now: int) -> dict[str, Any]:
        return {"tokenId": self.token_id, "principalId": self.principal_id,
                "createdOn": iso_from_ms(self.created_on),
                "expiresOn": iso_from_ms(self.expires_on),
                "revokedOn": iso_from_ms(self.revoked_on) if self.revoked_on else None,
                "status": self.status(now), "description": self.description,
                "session": self.session}
