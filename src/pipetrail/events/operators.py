"""The leaf operators of an event pattern, each a small immutable matcher.

Every matcher answers ``test(value)`` for one leaf value of an event (a string, a
:class:`~pipetrail.events.values.JsonNumber`, true, false or null). ``exists: false`` is
not a value test (it is about a field being absent) and lives on the field instead.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

from pipetrail.events.values import JsonNumber, Leaf


def fold(text: str) -> str:
    """The case-insensitive form used by every ``equals-ignore-case`` comparison."""
    return text.lower()


@dataclass(frozen=True)
class Exact:
    """A string, number (by its written form), true, false or null, matched exactly."""

    value: Leaf

    def test(self, value: Leaf) -> bool:
        return type(value) is type(self.value) and value == self.value


@dataclass(frozen=True)
class EqualsIgnoreCase:
    text: str
    folded: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded", fold(self.text))

    def test(self, value: Leaf) -> bool:
        return isinstance(value, str) and fold(value) == self.folded


@dataclass(frozen=True)
class Prefix:
    text: str
    ignore_case: bool = False
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", fold(self.text) if self.ignore_case else self.text)

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, str):
            return False
        return (fold(value) if self.ignore_case else value).startswith(self.key)


@dataclass(frozen=True)
class Suffix:
    text: str
    ignore_case: bool = False
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", fold(self.text) if self.ignore_case else self.text)

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, str):
            return False
        return (fold(value) if self.ignore_case else value).endswith(self.key)


def parse_wildcard(text: str) -> tuple[str, ...]:
    """Split a wildcard pattern into the literal parts between its ``*`` characters.

    ``\\*`` is a literal asterisk and ``\\\\`` a literal backslash; any other escape, a
    trailing backslash and two wildcards in a row are errors (ValueError with position).
    """
    parts: list[str] = []
    current: list[str] = []
    index = 0
    previous_was_wildcard = False
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text):
                raise ValueError(f"a backslash at position {index} ends the pattern")
            escaped = text[index + 1]
            if escaped not in "*\\":
                raise ValueError(
                    f"invalid escape '\\{escaped}' at position {index}: only \\* and \\\\ "
                    "are allowed"
                )
            current.append(escaped)
            index += 2
            previous_was_wildcard = False
            continue
        if char == "*":
            if previous_was_wildcard:
                raise ValueError(f"consecutive wildcard characters at position {index}")
            parts.append("".join(current))
            current = []
            previous_was_wildcard = True
        else:
            current.append(char)
            previous_was_wildcard = False
        index += 1
    parts.append("".join(current))
    return tuple(parts)


@dataclass(frozen=True)
class Wildcard:
    """``*`` matches any run of characters (including none); the rest is literal."""

    text: str
    parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", parse_wildcard(self.text))

    @property
    def literal_prefix(self) -> str:
        return self.parts[0]

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, str):
            return False
        return wildcard_match(self.parts, value)


def wildcard_match(parts: tuple[str, ...], value: str) -> bool:
    """Glob matching with ``*`` only: anchored ends, leftmost search for the middle parts."""
    first = parts[0]
    if len(parts) == 1:
        return value == first
    last = parts[-1]
    if len(value) < len(first) + len(last):
        return False
    if not value.startswith(first) or not value.endswith(last):
        return False
    position = len(first)
    end = len(value) - len(last)
    for middle in parts[1:-1]:
        found = value.find(middle, position, end)
        if found < 0:
            return False
        position = found + len(middle)
    return True


@dataclass(frozen=True)
class AnythingBut:
    """Any value except the listed strings, or except numbers equal to the listed ones.

    Values of another kind (a number against a string list, true, false, null) match.
    """

    strings: frozenset[str] = frozenset()
    numbers: frozenset[int] = frozenset()

    def test(self, value: Leaf) -> bool:
        if isinstance(value, str):
            return value not in self.strings
        if isinstance(value, JsonNumber):
            key = value.key
            return key is None or key not in self.numbers
        return True


@dataclass(frozen=True)
class AnythingButOf:
    """``anything-but`` wrapped around a string operator: prefix, suffix,
    equals-ignore-case or wildcard. Non-string values match."""

    inner: Prefix | Suffix | EqualsIgnoreCase | Wildcard

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, str):
            return True
        return not self.inner.test(value)


@dataclass(frozen=True)
class Numeric:
    """A numeric range over comparable keys (millionths); None means unbounded."""

    low: int | None = None
    low_open: bool = False
    high: int | None = None
    high_open: bool = False

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, JsonNumber):
            return False
        key = value.key
        if key is None:
            return False
        if self.low is not None and (key < self.low or (self.low_open and key == self.low)):
            return False
        return not (
            self.high is not None and (key > self.high or (self.high_open and key == self.high))
        )


@lru_cache(maxsize=4096)
def ip_key(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an IP address string, or None when it is not one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


@dataclass(frozen=True)
class Cidr:
    """An IPv4 or IPv6 network; matches string values that are addresses inside it.

    Construction raises ValueError for text that is not ``address/prefix-length``.
    """

    text: str
    version: int = field(init=False, compare=False)
    low: int = field(init=False, repr=False, compare=False)
    high: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "/" not in self.text:
            raise ValueError(f"{self.text!r} needs a prefix length, e.g. 10.0.0.0/24")
        try:
            network = ipaddress.ip_network(self.text, strict=False)
        except ValueError as exc:
            raise ValueError(f"{self.text!r} is not an IPv4 or IPv6 network: {exc}") from None
        object.__setattr__(self, "version", network.version)
        object.__setattr__(self, "low", int(network.network_address))
        object.__setattr__(self, "high", int(network.broadcast_address))

    def test(self, value: Leaf) -> bool:
        if not isinstance(value, str):
            return False
        key = ip_key(value)
        return key is not None and key[0] == self.version and self.low <= key[1] <= self.high


@dataclass(frozen=True)
class Exists:
    """``exists: true``: the field has a leaf value (any value, null included)."""

    def test(self, value: Leaf) -> bool:
        return True


Matcher = (
    Exact
    | EqualsIgnoreCase
    | Prefix
    | Suffix
    | Wildcard
    | AnythingBut
    | AnythingButOf
    | Numeric
    | Cidr
    | Exists
)
