"""The request context: the condition keys of one request, looked up case-insensitively.

Condition key names are case-insensitive (``pipetrail:SourceIp`` is
``PIPETRAIL:sourceip``); their values are case-sensitive strings. A key holds one value
or several (a multivalued key); a key with an empty list of values counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity

#: ``<prefix>:<name>``; the name may hold ``/`` (``pipetrail:PrincipalTag/team``).
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*:[^\x00-\x1f\x7f]+\Z")

USERNAME = "pipetrail:username"
USERID = "pipetrail:userid"
PRINCIPAL_TYPE = "pipetrail:PrincipalType"
PRINCIPAL_ARN = "pipetrail:PrincipalArn"
PRINCIPAL_WORKSPACE = "pipetrail:PrincipalWorkspace"
CURRENT_TIME = "pipetrail:CurrentTime"
EPOCH_TIME = "pipetrail:EpochTime"
SOURCE_IP = "pipetrail:SourceIp"
SECURE_TRANSPORT = "pipetrail:SecureTransport"
USER_AGENT = "pipetrail:UserAgent"

ContextValue = str | Sequence[str]


def check_key(key: object, where: str) -> str:
    """``key`` if it is a well-formed condition key name, else a ValidationError."""
    if not isinstance(key, str) or not _well_formed(key):
        raise ValidationError(
            f"{where}: {key!r} is not a condition key; keys look like "
            "'<prefix>:<name>', for example 'pipetrail:username'"
        )
    return key


@lru_cache(maxsize=4096)
def _well_formed(key: str) -> bool:
    return KEY_PATTERN.match(key) is not None


class RequestContext:
    """The condition keys of one request, normalised once for many lookups."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Mapping[str, tuple[str, ...]],
                 names: Mapping[str, str] | None = None) -> None:
        self._values = dict(values)
        self._names = dict(names) if names is not None else {k: k for k in self._values}

    @classmethod
    def from_mapping(cls, context: Mapping[str, ContextValue]) -> RequestContext:
        """Validate and normalise ``{key: value or [values]}``."""
        values: dict[str, tuple[str, ...]] = {}
        names: dict[str, str] = {}
        for key, raw in context.items():
            check_key(key, "request context")
            lower = key.lower()
            if lower in values:
                raise ValidationError(
                    f"request context: key {key!r} is given twice "
                    f"(as {names[lower]!r} too; key names ignore case)"
                )
            values[lower] = _values_of(key, raw)
            names[lower] = key
        return cls(values, names)

    @classmethod
    def for_request(cls, context: Mapping[str, ContextValue], *,
                    principal: Identity | None = None,
                    now: datetime | None = None) -> RequestContext:
        """The context of a request: the caller's keys, the principal's, and the time.

        ``pipetrail:CurrentTime`` and ``pipetrail:EpochTime`` are filled from ``now``
        (default: the current time) unless given. A key given both by ``context`` and
        by the principal must have the same value there.
        """
        given = cls.from_mapping(context)
        values = dict(given._values)
        names = dict(given._names)
        derived: dict[str, str] = {}
        if principal is not None:
            derived.update({
                USERNAME: principal.user_name,
                USERID: principal.principal_id,
                PRINCIPAL_TYPE: principal.type,
                PRINCIPAL_ARN: principal.arn,
                PRINCIPAL_WORKSPACE: principal.workspace,
            })
        for key, value in derived.items():
            lower = key.lower()
            if lower in values and values[lower] != (value,):
                raise ValidationError(
                    f"request context: {names[lower]!r} is {list(values[lower])!r} but the "
                    f"principal gives {value!r}"
                )
            values[lower] = (value,)
            names.setdefault(lower, key)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        if CURRENT_TIME.lower() not in values:
            values[CURRENT_TIME.lower()] = (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),)
            names[CURRENT_TIME.lower()] = CURRENT_TIME
        if EPOCH_TIME.lower() not in values:
            values[EPOCH_TIME.lower()] = (str(int(moment.timestamp())),)
            names[EPOCH_TIME.lower()] = EPOCH_TIME
        return cls(values, names)

    def get(self, key: str) -> tuple[str, ...] | None:
        """The values of ``key`` (lower-case name); None when absent or empty."""
        found = self._values.get(key)
        return found if found else None

    def single(self, key: str) -> str | None:
        """The one value of ``key`` (lower-case name), as a policy variable reads it.

        Absent keys and multivalued keys give None: a policy variable cannot stand for
        a set of values.
        """
        found = self._values.get(key)
        return found[0] if found is not None and len(found) == 1 else None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(key as given, values)`` pairs."""
        return [(self._names[k], v) for k, v in self._values.items()]


def _values_of(key: str, raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, (list, tuple)):
        for item in raw:
            if not isinstance(item, str):
                raise ValidationError(
                    f"request context: values of {key!r} must be strings, not {item!r}"
                )
        return tuple(raw)
    raise ValidationError(
        f"request context: {key!r} must be a string or a list of strings, not {raw!r}"
    )
