"""Principals, stored policies, their attachments and API tokens.

Every change bumps the one-row access generation in the same transaction, so a server
that caches parsed policies knows, from the query that authenticates a request, whether
its cache is still current (several servers may share one database).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ConflictError, DeleteConflictError, NotFoundError
from pipetrail.model.principals import ApiToken, Principal, StoredPolicy
from pipetrail.store import schema as t
from pipetrail.store.base import StoreBase


@dataclass(frozen=True)
class TokenRecord:
    """What authenticating a request needs, read in one query."""

    token: ApiToken
    secret_hash: str
    principal: Principal
    generation: int


class AccessStore(StoreBase):
    # -- principals -------------------------------------------------------------------

    def create_principal(self, principal: Principal) -> None:
        with self._write() as conn:
            created = conn.execute(
                self._insert_ignore(t.principals).values(**_principal_row(principal))
                .returning(t.principals.c.principal_id)).first()
            if created is None:
                raise ConflictError(f"a principal named {principal.name!r} exists")
            _bump(conn)

    def get_principal(self, name: str) -> Principal:
        with self._read() as conn:
            row = conn.execute(select(t.principals).where(t.principals.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no principal named {name!r}")
        return _principal_from_row(row)

    def get_principal_by_id(self, principal_id: str) -> Principal:
        c = t.principals.c
        with self._read() as conn:
            row = conn.execute(select(t.principals).where(c.principal_id == principal_id)).first()
        if row is None:
            raise NotFoundError(f"no principal with id {principal_id!r}")
        return _principal_from_row(row)

    def find_principal(self, name: str, kind: str) -> Principal | None:
        """The principal of that name and type, or None."""
        c = t.principals.c
        with self._read() as conn:
            row = conn.execute(select(t.principals).where(c.name == name, c.type == kind)).first()
        return _principal_from_row(row) if row is not None else None

    def list_principals(self) -> list[Principal]:
        with self._read() as conn:
            rows = conn.execute(select(t.principals).order_by(t.principals.c.name)).all()
        return [_principal_from_row(r) for r in rows]

    def delete_principal(self, name: str) -> Principal:
        """Delete a principal with its attachments and tokens."""
        with self._write() as conn:
            row = conn.execute(select(t.principals).where(t.principals.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no principal named {name!r}")
            pid = row.principal_id
            conn.execute(delete(t.principal_policies)
                         .where(t.principal_policies.c.principal_id == pid))
            conn.execute(delete(t.api_tokens).where(t.api_tokens.c.principal_id == pid))
            conn.execute(delete(t.principals).where(t.principals.c.principal_id == pid))
            _bump(conn)
        return _principal_from_row(row)

    # -- policies ---------------------------------------------------------------------

    def put_policy(self, name: str, document: str, description: str | None) -> bool:
        """Create or replace a policy; True when it was created."""
        now = now_ms()
        c = t.policies.c
        with self._write() as conn:
            exists = conn.execute(select(c.name).where(c.name == name)).first() is not None
            if exists:
                values: dict[str, Any] = {"document": document, "updated_on": now}
                if description is not None:
                    values["description"] = description
                conn.execute(update(t.policies).where(c.name == name).values(**values))
            else:
                conn.execute(insert(t.policies).values(
                    name=name, document=document, description=description, created_on=now,
                    updated_on=now))
            _bump(conn)
        return not exists

    def get_policy(self, name: str) -> StoredPolicy:
        with self._read() as conn:
            row = conn.execute(select(t.policies).where(t.policies.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no policy named {name!r}")
        return _policy_from_row(row)

    def list_policies(self) -> list[StoredPolicy]:
        with self._read() as conn:
            rows = conn.execute(select(t.policies).order_by(t.policies.c.name)).all()
        return [_policy_from_row(r) for r in rows]

    def delete_policy(self, name: str) -> None:
        """Delete a policy that is attached to no principal."""
        with self._write() as conn:
            if conn.execute(select(t.policies.c.name)
                            .where(t.policies.c.name == name)).first() is None:
                raise NotFoundError(f"no policy named {name!r}")
            attached = conn.execute(
                select(t.principals.c.name)
                .join(t.principal_policies,
                      t.principal_policies.c.principal_id == t.principals.c.principal_id)
                .where(t.principal_policies.c.policy_name == name).limit(5)).scalars().all()
            if attached:
                raise DeleteConflictError(
                    f"policy {name!r} is attached to {', '.join(attached)}; detach it first")
            conn.execute(delete(t.policies).where(t.policies.c.name == name))
            _bump(conn)

    def attach_policy(self, principal_id: str, policy_name: str) -> bool:
        """Attach; True when it was not attached before."""
        with self._write() as conn:
            if conn.execute(select(t.policies.c.name)
                            .where(t.policies.c.name == policy_name)).first() is None:
                raise NotFoundError(f"no policy named {policy_name!r}")
            row = conn.execute(self._insert_ignore(t.principal_policies).values(
                principal_id=principal_id, policy_name=policy_name, attached_on=now_ms(),
            ).returning(t.principal_policies.c.policy_name)).first()
            _bump(conn)
        return row is not None

    def detach_policy(self, principal_id: str, policy_name: str) -> None:
        c = t.principal_policies.c
        with self._write() as conn:
            result = conn.execute(delete(t.principal_policies).where(
                c.principal_id == principal_id, c.policy_name == policy_name))
            if not result.rowcount:
                raise NotFoundError(f"policy {policy_name!r} is not attached")
            _bump(conn)

    def attached_policies(self, principal_id: str) -> list[StoredPolicy]:
        """The policies attached to a principal, by name."""
        c = t.principal_policies.c
        with self._read() as conn:
            rows = conn.execute(
                select(t.policies)
                .join(t.principal_policies, c.policy_name == t.policies.c.name)
                .where(c.principal_id == principal_id).order_by(t.policies.c.name)).all()
        return [_policy_from_row(r) for r in rows]

    # -- tokens -----------------------------------------------------------------------

    def create_token(self, token: ApiToken, secret_hash: str) -> None:
        with self._write() as conn:
            conn.execute(insert(t.api_tokens).values(
                token_id=token.token_id, principal_id=token.principal_id,
                secret_hash=secret_hash, description=token.description,
                created_on=token.created_on, expires_on=token.expires_on,
                revoked_on=token.revoked_on,
                session=orjson.dumps(token.session).decode() if token.session else None))
            _bump(conn)

    def get_token(self, token_id: str) -> ApiToken:
        with self._read() as conn:
            row = conn.execute(select(t.api_tokens)
                               .where(t.api_tokens.c.token_id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token {token_id!r}")
        return _token_from_row(row)

    def list_tokens(self, principal_id: str) -> list[ApiToken]:
        c = t.api_tokens.c
        with self._read() as conn:
            rows = conn.execute(select(t.api_tokens).where(c.principal_id == principal_id)
                                .order_by(c.created_on, c.token_id)).all()
        return [_token_from_row(r) for r in rows]

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token (revoking twice keeps the first time)."""
        c = t.api_tokens.c
        with self._write() as conn:
            conn.execute(update(t.api_tokens)
                         .where(c.token_id == token_id, c.revoked_on.is_(None))
                         .values(revoked_on=now_ms()))
            row = conn.execute(select(t.api_tokens).where(c.token_id == token_id)).first()
            if row is None:
                raise NotFoundError(f"no token {token_id!r}")
            _bump(conn)
        return _token_from_row(row)

    def token_record(self, token_id: str) -> TokenRecord | None:
        """A token with its principal and the access generation, in one query."""
        tok, pr = t.api_tokens.c, t.principals.c
        generation = select(t.access_generation.c.generation).where(
            t.access_generation.c.id == 1).scalar_subquery()
        query = (select(t.api_tokens, t.principals.c.name, pr.type, pr.description.label("pd"),
                        pr.tags, pr.created_on.label("pc"), generation.label("generation"))
                 .join(t.principals, pr.principal_id == tok.principal_id)
                 .where(tok.token_id == token_id))
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        principal = Principal(principal_id=row.principal_id, name=row.name, type=row.type,
                              created_on=row.pc, description=row.pd,
                              tags=orjson.loads(row.tags))
        return TokenRecord(_token_from_row(row), row.secret_hash, principal,
                           int(row.generation or 0))

    def access_generation(self) -> int:
        with self._read() as conn:
            value = conn.execute(select(t.access_generation.c.generation)
                                 .where(t.access_generation.c.id == 1)).scalar()
        return int(value or 0)


def _bump(conn: Connection) -> None:
    c = t.access_generation.c
    conn.execute(update(t.access_generation).where(c.id == 1)
                 .values(generation=c.generation + 1))


def _principal_row(p: Principal) -> dict[str, Any]:
    return {"principal_id": p.principal_id, "name": p.name, "type": p.type,
            "description": p.description, "tags": orjson.dumps(p.tags).decode(),
            "created_on": p.created_on}


def _principal_from_row(row: Any) -> Principal:
    return Principal(principal_id=row.principal_id, name=row.name, type=row.type,
                     created_on=row.created_on, description=row.description,
                     tags=orjson.loads(row.tags))


def _policy_from_row(row: Any) -> StoredPolicy:
    return StoredPolicy(name=row.name, document=row.document, created_on=row.created_on,
                        updated_on=row.updated_on, description=row.description)


def _token_from_row(row: Any) -> ApiToken:
    return ApiToken(token_id=row.token_id, principal_id=row.principal_id,
                    created_on=row.created_on, expires_on=row.expires_on,
                    description=row.description, revoked_on=row.revoked_on,
                    session=orjson.loads(row.session) if row.session else None)
