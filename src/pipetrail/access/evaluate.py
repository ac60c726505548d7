"""Evaluation of identity policies for one request, as IAM decides.

Every statement of every policy is checked against the request. A statement applies
when its ``Action``/``NotAction``, its ``Resource``/``NotResource`` and all of its
conditions hold. Then:

1. an applicable ``Deny`` statement anywhere gives ``explicitDeny`` (it beats any Allow);
2. otherwise an applicable ``Allow`` statement gives ``allowed``;
3. otherwise the request is refused by default: ``implicitDeny``.

The result names the statements that decided it (the Deny statements for an explicit
deny, the Allow statements for an allow), each by policy index, statement index and Sid.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipetrail.access.context import ContextValue, RequestContext
from pipetrail.access.policy import Effect, Policy, Statement
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity

_REQUEST_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9]+\Z")


class Decision(enum.StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


@dataclass(frozen=True)
class AccessRequest:
    """Who asks to do what to which resource, with the request's condition keys.

    ``context`` maps condition keys to one value or a list of values. The principal's
    keys (``pipetrail:username``, ``pipetrail:userid``, …) are added from ``principal``.
    """

    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: Identity | None = None


@dataclass(frozen=True)
class StatementMatch:
    """A statement that applied to the request."""

    policy_index: int
    statement_index: int
    sid: str | None
    effect: Effect

    def to_record(self) -> dict[str, Any]:
        return {"policyIndex": self.policy_index, "statementIndex": self.statement_index,
                "sid": self.sid, "effect": str(self.effect)}


@dataclass(frozen=True)
class EvaluationResult:
    """The decision and the statements that made it (none for an implicit deny)."""

    decision: Decision
    statements: tuple[StatementMatch, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    def to_record(self) -> dict[str, Any]:
        return {"decision": str(self.decision),
                "matchedStatements": [s.to_record() for s in self.statements]}


class PolicySet:
    """The policies of one principal, kept to decide many requests.

    Statements are indexed by action name as requests arrive, so a request only visits
    the statements whose ``Action``/``NotAction`` lets them apply to it.
    """

    MAX_INDEXED_ACTIONS = 4096

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)
        self._entries = tuple((n, statement) for n, policy in enumerate(self.policies)
                              for statement in policy.statements)
        self._by_action: dict[str, tuple[tuple[int, Statement], ...]] = {}

    def _candidates(self, action: str) -> tuple[tuple[int, Statement], ...]:
        found = self._by_action.get(action)
        if found is None:
            found = tuple(entry for entry in self._entries if entry[1].names_action(action))
            if len(self._by_action) >= self.MAX_INDEXED_ACTIONS:
                self._by_action.clear()
            self._by_action[action] = found
        return found

    def evaluate(self, request: AccessRequest, *, now: datetime | None = None
                 ) -> EvaluationResult:
        """Decide ``request``; see :func:`evaluate`."""
        context = request_context(request, now=now)
        resource = request.resource
        denies: list[StatementMatch] = []
        allows: list[StatementMatch] = []
        for policy_index, statement in self._candidates(request.action.lower()):
            if statement.applies_to(resource, context):
                match = StatementMatch(policy_index, statement.index, statement.sid,
                                       statement.effect)
                (denies if statement.effect is Effect.DENY else allows).append(match)
        if denies:
            return EvaluationResult(Decision.EXPLICIT_DENY, tuple(denies))
        if allows:
            return EvaluationResult(Decision.ALLOWED, tuple(allows))
        return EvaluationResult(Decision.IMPLICIT_DENY)


def evaluate(policies: Sequence[Policy] | PolicySet, request: AccessRequest, *,
             now: datetime | None = None) -> EvaluationResult:
    """Decide ``request`` under identity policies (parsed once, reused).

    Pass a :class:`PolicySet` to keep its action index across requests. ``now`` sets
    ``pipetrail:CurrentTime``/``pipetrail:EpochTime`` when the request's context does
    not (default: the current time).
    """
    chosen = policies if isinstance(policies, PolicySet) else PolicySet(policies)
    return chosen.evaluate(request, now=now)


def request_context(request: AccessRequest, *, now: datetime | None = None) -> RequestContext:
    """Check the request and build its context (the principal's keys and the time added)."""
    if not isinstance(request.action, str) or not _REQUEST_ACTION.match(request.action):
        raise ValidationError(
            f"request action {request.action!r} is not an action name such as "
            "'jobs:GetJobRun' (no wildcards)"
        )
    if not isinstance(request.resource, str) or not request.resource:
        raise ValidationError(
            f"request resource {request.resource!r} must be an ARN or '*'"
        )
    return RequestContext.for_request(request.context, principal=request.principal, now=now)


def missing_context_keys(policies: Sequence[Policy] | PolicySet, request: AccessRequest, *,
                         now: datetime | None = None) -> list[str]:
    """Condition keys that statements naming the request's action read but it lacks.

    A simulation whose result may hinge on an absent key lists them, as IAM's policy
    simulator does.
    """
    context = request_context(request, now=now)
    action = request.action.lower()
    chosen = policies.policies if isinstance(policies, PolicySet) else policies
    missing: dict[str, str] = {}
    for policy in chosen:
        for statement in policy.statements:
            if not statement.names_action(action):
                continue
            for key in statement.context_keys:
                if key.lower() not in context:
                    missing.setdefault(key.lower(), key)
    return sorted(missing.values(), key=str.lower)
