"""Deciding an action's request for a caller: the policies attached to its principal.

:class:`PolicyAuthorizer` raises :class:`~pipetrail.model.errors.AccessDeniedError`
unless the policies allow the action on every resource of the request; the message says
why, in IAM's words. :class:`PolicyCache` keeps each principal's parsed policies for as
long as the store's access generation does not change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

from pipetrail.access.context import ContextValue
from pipetrail.access.evaluate import AccessRequest, Decision, EvaluationResult, PolicySet
from pipetrail.access.policy import parse_policy
from pipetrail.model.errors import AccessDeniedError
from pipetrail.model.identity import Identity
from pipetrail.store import Store


class Authorizer(Protocol):
    def authorize(self, principal: Identity, action: str, resources: Sequence[str],
                  context: Mapping[str, ContextValue]) -> None:
        """Return if ``principal`` may perform ``action`` on every resource, else raise
        AccessDeniedError."""


class PolicyAuthorizer:
    """Decides requests under one principal's policies."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies

    def authorize(self, principal: Identity, action: str, resources: Sequence[str],
                  context: Mapping[str, ContextValue]) -> None:
        for resource in resources or ("*",):
            result = self.policies.evaluate(
                AccessRequest(action, resource, context, principal=principal))
            if not result.allowed:
                raise AccessDeniedError(denial_message(principal, action, resource, result))


def denial_message(principal: Identity, action: str, resource: str,
                   result: EvaluationResult) -> str:
    kind = principal.type
    why = (f"with an explicit deny in an identity-based policy "
           f"(statement {', '.join(_where(result))})"
           if result.decision is Decision.EXPLICIT_DENY
           else f"because no identity-based policy allows the {action} action")
    return (f"{kind}: {principal.arn} is not authorized to perform: {action} on resource: "
            f"{resource} {why}")


def _where(result: EvaluationResult) -> list[str]:
    return [f"{s.sid or '#' + str(s.statement_index)} of policy {s.policy_index}"
            for s in result.statements]


class PolicyCache:
    """Parsed policies per principal, valid while the access generation is unchanged."""

    MAX_ENTRIES = 10_000

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[int, PolicySet]] = {}

    def policies(self, principal_id: str, generation: int) -> PolicySet:
        with self._lock:
            found = self._sets.get(principal_id)
        if found is not None and found[0] == generation:
            return found[1]
        stored = self._store.attached_policies(principal_id)
        policies = PolicySet([parse_policy(p.document, source=p.name) for p in stored])
        with self._lock:
            if len(self._sets) >= self.MAX_ENTRIES:
                self._sets.clear()
            self._sets[principal_id] = (generation, policies)
        return policies


def local_authorizer(store: Store, identity: Identity) -> PolicyAuthorizer | None:
    """Embedded mode: the local user's policies if the store has a ``LocalUser``
    principal of that name with at least one policy attached, else None (the local user
    may do everything)."""
    principal = store.find_principal(identity.user_name, "LocalUser")
    if principal is None:
        return None
    stored = store.attached_policies(principal.principal_id)
    if not stored:
        return None
    return PolicyAuthorizer(PolicySet([parse_policy(p.document, source=p.name)
                                       for p in stored]))
