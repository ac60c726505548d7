"""Policies in IAM's JSON grammar: reading, validation and compilation.

A policy is read once into a :class:`Policy` whose statements hold compiled matchers,
so evaluating it for a request does no parsing. Anything that is not a valid identity
policy raises :class:`~pipetrail.model.errors.ValidationError` naming the element
(``Statement[1].Condition.StringEquals: …``) or, for JSON syntax, the line and column.
"""

from __future__ import annotations

import difflib
import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipetrail.access.conditions import Condition, parse_conditions
from pipetrail.access.context import RequestContext
from pipetrail.access.variables import (
    Template,
    Variable,
    has_variables,
    parse_template,
    resolve,
    static,
    variable_names,
)
from pipetrail.access.wildcards import (
    ARN_FIXED_COMPONENTS,
    any_of,
    arn_regex,
    compiled,
    string_regex,
)
from pipetrail.model.errors import ValidationError

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
VERSIONS = (VERSION_2012, VERSION_2008)

#: Most characters a policy may hold, not counting whitespace (IAM's largest quota).
MAX_POLICY_CHARS = 10_240
#: Most characters of policy text read at all, whitespace included.
MAX_POLICY_TEXT = 131_072

POLICY_ELEMENTS = ("Version", "Id", "Statement")
STATEMENT_ELEMENTS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                      "Condition")

_ACTION = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9*?]+)\Z")
_SID = re.compile(r"[A-Za-z0-9]+\Z")


class Effect(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class ActionMatch:
    """``Action`` or ``NotAction``: patterns ``<service>:<Action>``, case-insensitive."""

    patterns: tuple[str, ...]
    negated: bool
    everything: bool
    regex: re.Pattern[str] | None

    def covers(self, action: str) -> bool:
        """Whether one of the patterns names ``action`` (lower-case)."""
        if self.everything:
            return True
        return self.regex is not None and self.regex.fullmatch(action) is not None


@dataclass(frozen=True)
class ResourceMatch:
    """``Resource`` or ``NotResource``: ARN patterns, case-sensitive, maybe with variables."""

    patterns: tuple[str, ...]
    negated: bool
    everything: bool
    regex: re.Pattern[str] | None
    dynamic: tuple[Template, ...]

    def covers(self, resource: str, context: RequestContext) -> bool:
        """Whether one of the patterns names ``resource``."""
        if self.everything:
            return True
        if self.regex is not None and self.regex.fullmatch(resource) is not None:
            return True
        for template in self.dynamic:
            parts = resolve(template, context)
            if parts is not None and compiled(arn_regex(parts)).fullmatch(resource) is not None:
                return True
        return False


@dataclass(frozen=True)
class Statement:
    """One compiled statement; ``index`` is its place in the policy's ``Statement``."""

    index: int
    sid: str | None
    effect: Effect
    action: ActionMatch
    resource: ResourceMatch
    conditions: tuple[Condition, ...]
    context_keys: tuple[str, ...]

    def names_action(self, action: str) -> bool:
        """Whether ``Action``/``NotAction`` lets the statement apply to ``action`` (lower case)."""
        return self.action.covers(action) != self.action.negated

    def applies(self, action: str, resource: str, context: RequestContext) -> bool:
        """Whether the statement applies to a request (``action`` in lower case)."""
        return self.names_action(action) and self.applies_to(resource, context)

    def applies_to(self, resource: str, context: RequestContext) -> bool:
        """Whether resource and conditions hold, the action being already named."""
        if self.resource.covers(resource, context) == self.resource.negated:
            return False
        return all(condition.holds(context) for condition in self.conditions)


@dataclass(frozen=True)
class Policy:
    """A parsed identity policy."""

    version: str
    id: str | None
    statements: tuple[Statement, ...]
    source: str | None = None

    @property
    def variables(self) -> bool:
        return self.version == VERSION_2012


def parse_policy(document: str | Mapping[str, Any], *, source: str | None = None) -> Policy:
    """Read a policy from JSON text or from an already decoded mapping.

    ``source`` (a file name, say) prefixes every error message.
    """
    try:
        data = read_policy_json(document) if isinstance(document, str) else document
        return _policy(data, source)
    except ValidationError as exc:
        if source is None:
            raise
        raise ValidationError(f"policy {source}: {exc}") from None


def read_policy_json(text: str) -> Any:
    """Decode policy text: strict JSON, no duplicate keys, within the size limits."""
    if len(text) > MAX_POLICY_TEXT:
        raise ValidationError(
            f"the policy text is {len(text)} characters long; the most read is {MAX_POLICY_TEXT}"
        )
    size = sum(1 for char in text if not char.isspace())
    if size > MAX_POLICY_CHARS:
        raise ValidationError(
            f"the policy holds {size} characters besides whitespace; "
            f"the most allowed is {MAX_POLICY_CHARS}"
        )
    try:
        return json.loads(text, object_pairs_hook=_JsonObject.of,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} "
            f"(offset {exc.pos}): {exc.msg}"
        ) from None
    except RecursionError:
        raise ValidationError("the policy JSON is nested too deeply") from None
    except ValueError as exc:  # integers longer than Python reads, NaN, Infinity
        raise ValidationError(f"not valid JSON: {exc}") from None


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers keys it saw twice."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            twice: list[str] = []
            for key, _ in pairs:
                if key in seen:
                    twice.append(key)
                seen.add(key)
            obj.duplicates = tuple(twice)
        return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _object(value: object, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: {what} must be a JSON object, not {_kind(value)}")
    duplicates = getattr(value, "duplicates", ())
    if duplicates:
        raise ValidationError(f"{where}: element {duplicates[0]!r} appears more than once")
    for key in value:
        if not isinstance(key, str):
            raise ValidationError(f"{where}: element names must be strings, not {key!r}")
    return value


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _unknown(name: str, known: Sequence[str], where: str, what: str) -> ValidationError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(known)}"
    return ValidationError(f"{where}: unknown element {name!r} in {what}{hint}")


def _policy(data: object, source: str | None) -> Policy:
    doc = _object(data, "policy", "a policy")
    for name in doc:
        if name not in POLICY_ELEMENTS:
            raise _unknown(name, POLICY_ELEMENTS, "policy", "a policy")
    version = doc.get("Version", VERSION_2008)
    if version not in VERSIONS:
        raise ValidationError(
            f"Version: {version!r} is not a policy language version; use \"{VERSION_2012}\" "
            f"(or \"{VERSION_2008}\", which has no policy variables)"
        )
    policy_id = doc.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise ValidationError(f"Id: must be a string, not {_kind(policy_id)}")
    if "Statement" not in doc:
        raise ValidationError("policy: a policy needs a Statement element")
    raw = doc["Statement"]
    if isinstance(raw, list):
        if not raw:
            raise ValidationError("Statement: must hold at least one statement")
        items = [(f"Statement[{n}]", item) for n, item in enumerate(raw)]
    else:
        items = [("Statement", raw)]
    statements: list[Statement] = []
    sids: dict[str, str] = {}
    for index, (where, item) in enumerate(items):
        statement = _statement(item, index, where, variables=version == VERSION_2012)
        if statement.sid is not None:
            if statement.sid in sids:
                raise ValidationError(
                    f"{where}.Sid: {statement.sid!r} is already the Sid of {sids[statement.sid]}; "
                    "Sids must be unique within a policy"
                )
            sids[statement.sid] = where
        statements.append(statement)
    return Policy(str(version), policy_id, tuple(statements), source)


def _statement(raw: object, index: int, where: str, *, variables: bool) -> Statement:
    body = _object(raw, where, "a statement")
    for name in body:
        if name in ("Principal", "NotPrincipal"):
            raise ValidationError(
                f"{where}: {name} cannot appear in an identity policy; the principal is "
                "whoever the policy is attached to"
            )
        if name not in STATEMENT_ELEMENTS:
            raise _unknown(name, STATEMENT_ELEMENTS, where, "a statement")
    sid = body.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not _SID.match(sid)):
        raise ValidationError(
            f"{where}.Sid: {sid!r} is not a statement id; use letters A-Z, a-z and digits 0-9"
        )
    if "Effect" not in body:
        raise ValidationError(f"{where}: a statement needs an Effect (\"Allow\" or \"Deny\")")
    effect_text = body["Effect"]
    if effect_text not in ("Allow", "Deny"):
        raise ValidationError(f"{where}.Effect: must be \"Allow\" or \"Deny\", not {effect_text!r}")
    action = _actions(body, where)
    resource = _resources(body, where, variables=variables)
    conditions: tuple[Condition, ...] = ()
    if "Condition" in body:
        block = _object(body["Condition"], f"{where}.Condition", "Condition")
        for operator, keys in block.items():
            _object(keys, f"{where}.Condition.{operator}", "an operator's block")
        conditions = parse_conditions(block, variables=variables, where=f"{where}.Condition")
    keys = _context_keys(conditions, resource)
    return Statement(index, sid, Effect(effect_text), action, resource, conditions, keys)


def _one_of(body: Mapping[str, Any], names: tuple[str, str], where: str) -> tuple[str, Any]:
    present = [name for name in names if name in body]
    if len(present) == 2:
        raise ValidationError(f"{where}: a statement has {names[0]} or {names[1]}, not both")
    if not present:
        raise ValidationError(f"{where}: a statement needs {names[0]} or {names[1]}")
    return present[0], body[present[0]]


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValidationError(f"{where}: must name at least one entry")
        for n, item in enumerate(value):
            if not isinstance(item, str):
                raise ValidationError(f"{where}[{n}]: must be a string, not {_kind(item)}")
        return list(value)
    raise ValidationError(f"{where}: must be a string or a list of strings, not {_kind(value)}")


def _actions(body: Mapping[str, Any], where: str) -> ActionMatch:
    name, raw = _one_of(body, ("Action", "NotAction"), where)
    patterns = _strings(raw, f"{where}.{name}")
    regexes: list[str] = []
    everything = False
    for pattern in patterns:
        if pattern == "*":
            everything = True
            continue
        match = _ACTION.match(pattern)
        if match is None:
            if ":" in pattern and any(c in pattern.partition(":")[0] for c in "*?"):
                raise ValidationError(
                    f"{where}.{name}: {pattern!r}: the service prefix of an action cannot "
                    "hold wildcards"
                )
            raise ValidationError(
                f"{where}.{name}: {pattern!r} is not an action; actions look like "
                "'jobs:GetJobRun' (wildcards * and ? allowed after the colon) or '*'"
            )
        template = parse_template(pattern.lower(), variables=False, wildcards=True, where=where)
        regexes.append(string_regex(static(template)))
    regex = compiled(any_of(regexes)) if regexes and not everything else None
    return ActionMatch(tuple(patterns), name == "NotAction", everything, regex)


def _resources(body: Mapping[str, Any], where: str, *, variables: bool) -> ResourceMatch:
    name, raw = _one_of(body, ("Resource", "NotResource"), where)
    place = f"{where}.{name}"
    patterns = _strings(raw, place)
    fixed: list[str] = []
    dynamic: list[Template] = []
    everything = False
    for pattern in patterns:
        if pattern == "*":
            everything = True
            continue
        if not pattern.startswith("arn:"):
            raise ValidationError(
                f"{place}: {pattern!r} must be '*' or an ARN such as "
                "'arn:pipetrail:jobs:<workspace>:job/<name>'"
            )
        template = parse_template(pattern, variables=variables, wildcards=True, where=place)
        if has_variables(template):
            _check_variable_place(template, pattern, place)
            dynamic.append(template)
        else:
            fixed.append(arn_regex(static(template)))
    regex = compiled(any_of(fixed)) if fixed and not everything else None
    return ResourceMatch(tuple(patterns), name == "NotResource", everything, regex,
                         tuple(dynamic))


def _check_variable_place(template: Template, pattern: str, where: str) -> None:
    colons = 0
    for part in template:
        if isinstance(part, Variable):
            if colons < ARN_FIXED_COMPONENTS:
                raise ValidationError(
                    f"{where}: {pattern!r}: policy variables may stand only in the resource "
                    "part of an ARN, after arn:pipetrail:<service>:<workspace>:"
                )
            return
        if isinstance(part, str):
            colons += part.count(":")


def _context_keys(conditions: tuple[Condition, ...], resource: ResourceMatch) -> tuple[str, ...]:
    names: dict[str, str] = {}
    for condition in conditions:
        for name in (condition.key, *condition.variables):
            names.setdefault(name.lower(), name)
    for name in variable_names(resource.dynamic):
        names.setdefault(name.lower(), name)
    return tuple(names.values())
