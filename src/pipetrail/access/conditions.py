"""The ``Condition`` element: operators, set qualifiers, ``…IfExists`` and ``Null``.

A condition block ``{"StringEquals": {"pipetrail:username": ["ana", "bo"]}}`` holds
operators, each with keys, each with values. All operators and all keys must hold
(AND); the values of one key are alternatives (OR), and for a negated operator
(``StringNotEquals``, ``NotIpAddress``, …) the key must match none of them (NOR).

For each key, with the request's values ``R`` and the policy's values ``P``:

* plain operator: the key must be present; true when some value of ``R`` matches some
  value of ``P`` (a negated operator is the exact opposite: true when the key is absent
  or no value of ``R`` matches any value of ``P``);
* ``ForAnyValue:`` true when at least one value of ``R`` passes the operator; false when
  the key is absent or has no values;
* ``ForAllValues:`` true when every value of ``R`` passes the operator; **true when the
  key is absent or has no values** (an empty string counts as no values);
* ``…IfExists``: true when the key is absent, otherwise as without the suffix;
* ``Null``: ``true`` holds when the key is absent, ``false`` when it is present.

A request value that cannot be read as the operator's type (a number for ``Numeric…``,
a date, an IP address, base-64, ``true``/``false``) matches no policy value; so does a
policy value whose policy variable has no value.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol, TypeVar

from pipetrail.access.context import RequestContext, check_key
from pipetrail.access.variables import (
    Resolved,
    Template,
    has_variables,
    parse_template,
    resolve,
    static,
    text_of,
    variable_names,
)
from pipetrail.access.wildcards import any_of, arn_regex, compiled, string_regex
from pipetrail.model.errors import ValidationError

Predicate = Callable[[str], bool]
T = TypeVar("T")

FOR_ALL_VALUES = "ForAllValues"
FOR_ANY_VALUE = "ForAnyValue"
IF_EXISTS = "IfExists"


@dataclass(frozen=True)
class OperatorSpec:
    """One base operator: its family, whether it is negated, how it compares."""

    family: str
    negated: bool = False
    compare: str = "eq"

    @property
    def variables(self) -> bool:
        """Whether policy variables may appear in its values (as IAM allows)."""
        return self.family in {"string", "string_ignore_case", "string_like", "arn", "bool"}


OPERATORS: dict[str, OperatorSpec] = {
    "StringEquals": OperatorSpec("string"),
    "StringNotEquals": OperatorSpec("string", negated=True),
    "StringEqualsIgnoreCase": OperatorSpec("string_ignore_case"),
    "StringNotEqualsIgnoreCase": OperatorSpec("string_ignore_case", negated=True),
    "StringLike": OperatorSpec("string_like"),
    "StringNotLike": OperatorSpec("string_like", negated=True),
    "NumericEquals": OperatorSpec("numeric"),
    "NumericNotEquals": OperatorSpec("numeric", negated=True),
    "NumericLessThan": OperatorSpec("numeric", compare="lt"),
    "NumericLessThanEquals": OperatorSpec("numeric", compare="le"),
    "NumericGreaterThan": OperatorSpec("numeric", compare="gt"),
    "NumericGreaterThanEquals": OperatorSpec("numeric", compare="ge"),
    "DateEquals": OperatorSpec("date"),
    "DateNotEquals": OperatorSpec("date", negated=True),
    "DateLessThan": OperatorSpec("date", compare="lt"),
    "DateLessThanEquals": OperatorSpec("date", compare="le"),
    "DateGreaterThan": OperatorSpec("date", compare="gt"),
    "DateGreaterThanEquals": OperatorSpec("date", compare="ge"),
    "Bool": OperatorSpec("bool"),
    "BinaryEquals": OperatorSpec("binary"),
    "IpAddress": OperatorSpec("ip"),
    "NotIpAddress": OperatorSpec("ip", negated=True),
    "ArnEquals": OperatorSpec("arn"),
    "ArnLike": OperatorSpec("arn"),
    "ArnNotEquals": OperatorSpec("arn", negated=True),
    "ArnNotLike": OperatorSpec("arn", negated=True),
    "Null": OperatorSpec("null"),
}

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_EPOCH = re.compile(r"\d+(?:\.\d+)?\Z")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


class Matcher(Protocol):
    """The policy values of one key, ready to test request values."""

    def bind(self, context: RequestContext) -> Predicate:
        """A test of one request value: does it match any policy value?"""
        ...


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key."""

    operator: str
    key: str
    qualifier: str | None
    if_exists: bool
    negated: bool
    matcher: Matcher | None = None
    null_expect: frozenset[bool] = frozenset()
    variables: tuple[str, ...] = ()
    lookup: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookup", self.key.lower())

    def holds(self, context: RequestContext) -> bool:
        values = context.get(self.lookup)
        if self.matcher is None:  # Null
            return (values is None) in self.null_expect
        if self.qualifier is None:
            if values is None:
                return self.if_exists or self.negated
            test = self.matcher.bind(context)
            found = any(test(value) for value in values)
            return not found if self.negated else found
        if values is not None and values == ("",):
            values = None  # an empty string is an empty set of values
        if values is None:
            return self.if_exists or self.qualifier == FOR_ALL_VALUES
        test = self.matcher.bind(context)
        if self.qualifier == FOR_ANY_VALUE:
            return any(test(value) != self.negated for value in values)
        return all(test(value) != self.negated for value in values)


def parse_conditions(raw: object, *, variables: bool, where: str) -> tuple[Condition, ...]:
    """Read a ``Condition`` element; ``variables`` says whether the policy has them."""
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"{where}: must be an object of operators, such as "
            '{"StringEquals": {"pipetrail:username": "ana"}}'
        )
    out: list[Condition] = []
    for operator, block in raw.items():
        op_where = f"{where}.{operator}"
        qualifier, if_exists, base, spec = parse_operator(operator, op_where)
        if not isinstance(block, Mapping) or not block:
            raise ValidationError(
                f"{op_where}: must be a non-empty object of condition keys and values"
            )
        for key, raw_values in block.items():
            key_where = f"{op_where}.{key}"
            check_key(key, op_where)
            items = _value_texts(raw_values, key_where)
            if spec.family == "null":
                out.append(Condition(operator, key, None, False, False,
                                     null_expect=_null_values(items, key_where)))
                continue
            matcher = _matcher(base, spec, items, variables=variables, where=key_where)
            names = (variable_names(matcher.templates)
                     if isinstance(matcher, (StringMatcher, BoolMatcher)) else ())
            out.append(Condition(operator, key, qualifier, if_exists, spec.negated, matcher,
                                 variables=names))
    return tuple(out)


def parse_operator(text: str, where: str) -> tuple[str | None, bool, str, OperatorSpec]:
    """``ForAllValues:StringLikeIfExists`` → (qualifier, if_exists, base name, spec)."""
    qualifier: str | None = None
    name = text
    if ":" in name:
        prefix, _, name = name.partition(":")
        if prefix not in (FOR_ALL_VALUES, FOR_ANY_VALUE):
            raise ValidationError(
                f"{where}: unknown set operator {prefix!r}; use ForAllValues: or ForAnyValue:"
            )
        qualifier = prefix
    if_exists = name.endswith(IF_EXISTS) and name != IF_EXISTS
    base = name[: -len(IF_EXISTS)] if if_exists else name
    spec = OPERATORS.get(base)
    if spec is None:
        raise ValidationError(f"{where}: unknown condition operator {text!r}{_suggest(base)}")
    if spec.family == "null" and if_exists:
        raise ValidationError(f"{where}: Null cannot take IfExists; Null itself tests presence")
    if spec.family == "null" and qualifier:
        raise ValidationError(f"{where}: Null cannot take a set operator ({qualifier}:)")
    return qualifier, if_exists, base, spec


def _suggest(name: str) -> str:
    names = {n.lower(): n for n in OPERATORS}
    exact = names.get(name.lower())
    if exact:
        return f"; operator names are case-sensitive: did you mean {exact!r}?"
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.75)
    return f"; did you mean {names[close[0]]!r}?" if close else ""


def _value_texts(raw: object, where: str) -> list[str]:
    items: Sequence[object] = raw if isinstance(raw, (list, tuple)) else [raw]
    if not items:
        raise ValidationError(f"{where}: needs at least one value")
    texts: list[str] = []
    for n, item in enumerate(items):
        if isinstance(item, bool):
            texts.append("true" if item else "false")
        elif isinstance(item, str):
            texts.append(item)
        elif isinstance(item, (int, float)):
            texts.append(repr(item))
        else:
            place = f"{where}[{n}]" if isinstance(raw, (list, tuple)) else where
            raise ValidationError(
                f"{place}: condition values must be strings, numbers or booleans, "
                f"not {type(item).__name__}"
            )
    return texts


def _null_values(items: list[str], where: str) -> frozenset[bool]:
    expect: set[bool] = set()
    for item in items:
        word = item.lower()
        if word not in ("true", "false"):
            raise ValidationError(
                f"{where}: Null takes true (the key is absent) or false (it is present), "
                f"not {item!r}"
            )
        expect.add(word == "true")
    return frozenset(expect)


def _matcher(base: str, spec: OperatorSpec, items: list[str], *, variables: bool,
             where: str) -> Matcher:
    family = spec.family
    if family in ("string", "string_ignore_case", "string_like", "arn"):
        templates = [
            parse_template(item, variables=variables, wildcards=family in ("string_like", "arn"),
                           where=f"{where}[{n}]" if len(items) > 1 else where)
            for n, item in enumerate(items)
        ]
        if family == "arn":
            for item, template in zip(items, templates, strict=True):
                _check_arn_value(item, template, where)
        return StringMatcher(family, templates)
    if family == "bool":
        templates = [parse_template(item, variables=variables, wildcards=False, where=where)
                     for item in items]
        for item, template in zip(items, templates, strict=True):
            if not has_variables(template) and text_of(static(template)).lower() not in (
                    "true", "false"):
                raise ValidationError(f"{where}: Bool takes true or false, not {item!r}")
        return BoolMatcher(templates)
    if family == "numeric":
        numbers = _typed(items, read_number, base, "a number", where)
        return OrderedMatcher(_COMPARE[spec.compare], tuple(numbers), read_number)
    if family == "date":
        instants = _typed(items, read_instant, base, _DATE_WANTED, where)
        return OrderedMatcher(_COMPARE[spec.compare], tuple(instants), read_instant)
    if family == "binary":
        return BinaryMatcher(frozenset(_typed(items, read_binary, base, "base-64 text", where)))
    return IpMatcher(tuple(_typed(items, read_network, base, _IP_WANTED, where)))


_DATE_WANTED = "a date: ISO 8601 (2026-01-31, 2026-01-31T12:00:00Z) or epoch seconds"
_IP_WANTED = "an IP address or CIDR range (203.0.113.0/24, 2001:db8::/32)"


def _typed(items: list[str], reader: Callable[[str], T | None], base: str, wanted: str,
           where: str) -> list[T]:
    out: list[T] = []
    for item in items:
        value = reader(item)
        if value is None:
            hint = f" (policy variables cannot be used with {base})" if "${" in item else ""
            raise ValidationError(f"{where}: {base} needs {wanted}, not {item!r}{hint}")
        out.append(value)
    return out


def _check_arn_value(item: str, template: Template, where: str) -> None:
    if has_variables(template):
        return
    text = text_of(static(template))
    if not (text.startswith("arn:") or set(text) == {"*"}):
        raise ValidationError(
            f"{where}: {item!r} is not an ARN (arn:pipetrail:<service>:<workspace>:<resource>); "
            "use a String operator to compare other text"
        )


# --- readers of typed values (None when the text is not of the type) ---------------

def read_number(text: str) -> Decimal | None:
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@lru_cache(maxsize=1024)
def read_instant(text: str) -> Decimal | None:
    """Seconds since the epoch for an ISO 8601 date/time or epoch-seconds text."""
    if _EPOCH.match(text):
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    try:
        month = _YEAR_MONTH.match(text)
        if month:
            moment = datetime(int(month.group(1)), int(month.group(2)), 1, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delta = moment - _EPOCH_START
    except (ValueError, OverflowError):
        return None
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def read_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def read_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def read_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --- matchers ------------------------------------------------------------------------

class StringMatcher:
    """String and ARN operators: exact, case-insensitive, wildcard or per-component."""

    __slots__ = ("_dynamic", "_family", "_static", "templates")

    def __init__(self, family: str, templates: list[Template]) -> None:
        self.templates = tuple(templates)
        self._family = family
        fixed = [static(t) for t in templates if not has_variables(t)]
        self._dynamic = tuple(t for t in templates if has_variables(t))
        self._static = self._predicate(fixed)

    def _predicate(self, values: Sequence[Resolved]) -> Predicate:
        family = self._family
        if not values:
            return _never
        if family == "string":
            exact = frozenset(text_of(v) for v in values)
            return exact.__contains__
        if family == "string_ignore_case":
            folded = frozenset(text_of(v).lower() for v in values)
            return lambda value: value.lower() in folded
        build = arn_regex if family == "arn" else string_regex
        pattern = compiled(any_of([build(v) for v in values]))
        return lambda value: pattern.fullmatch(value) is not None

    def bind(self, context: RequestContext) -> Predicate:
        if not self._dynamic:
            return self._static
        resolved = [r for r in (resolve(t, context) for t in self._dynamic) if r is not None]
        if not resolved:
            return self._static
        extra = self._predicate(resolved)
        fixed = self._static
        return lambda value: fixed(value) or extra(value)


class BoolMatcher:
    __slots__ = ("_dynamic", "_static", "templates")

    def __init__(self, templates: list[Template]) -> None:
        self.templates = tuple(templates)
        self._static = frozenset(
            text_of(static(t)).lower() for t in templates if not has_variables(t))
        self._dynamic = tuple(t for t in templates if has_variables(t))

    def bind(self, context: RequestContext) -> Predicate:
        allowed = set(self._static)
        for template in self._dynamic:
            resolved = resolve(template, context)
            if resolved is not None:
                allowed.add(text_of(resolved).lower())
        allowed &= {"true", "false"}
        return lambda value: value.lower() in allowed


class OrderedMatcher:
    """Numeric and date operators: compare the request value with each policy value."""

    __slots__ = ("_compare", "_read", "_values")

    def __init__(self, compare: Callable[[Decimal, Decimal], bool], values: tuple[Decimal, ...],
                 read: Callable[[str], Decimal | None]) -> None:
        self._compare = compare
        self._values = values
        self._read = read

    def bind(self, context: RequestContext) -> Predicate:
        return self._test

    def _test(self, value: str) -> bool:
        number = self._read(value)
        if number is None:
            return False
        compare = self._compare
        return any(compare(number, bound) for bound in self._values)


class BinaryMatcher:
    __slots__ = ("_values",)

    def __init__(self, values: frozenset[bytes]) -> None:
        self._values = values

    def bind(self, context: RequestContext) -> Predicate:
        return self._test

    def _test(self, value: str) -> bool:
        data = read_binary(value)
        return data is not None and data in self._values


class IpMatcher:
    __slots__ = ("_networks",)

    def __init__(self, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> None:
        self._networks = networks

    def bind(self, context: RequestContext) -> Predicate:
        return self._test

    def _test(self, value: str) -> bool:
        address = read_address(value)
        if address is None:
            return False
        return any(address.version == net.version and address in net for net in self._networks)


def _never(value: str) -> bool:
    return False
