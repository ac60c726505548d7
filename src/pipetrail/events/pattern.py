"""Parsing, validating and matching one EventBridge event pattern.

A pattern is a JSON object shaped like the events it selects. Each leaf of the pattern
is an array of match values (OR); all listed fields must match (AND); ``$or`` gives OR
between groups of fields. :func:`compile_pattern` expands every ``$or`` into *branches*
(one set of fields each, as EventBridge does), and a pattern matches when any branch does.

Arrays in events: a field matches when any element matches, and the fields under one
array of objects must all be found in the same element (the pattern ``{"d": {"a": [1],
"b": [2]}}`` does not match ``{"d": [{"a": 1}, {"b": 2}]}``). ``exists: false`` holds
when the field has no leaf value anywhere in the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pipetrail.events.event import Event, Path, array_items, parse_event
from pipetrail.events.operators import (
    AnythingBut,
    AnythingButOf,
    Cidr,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)
from pipetrail.events.values import (
    JsonNumber,
    Leaf,
    decimal_of,
    describe,
    from_python,
    load_json,
)
from pipetrail.model.errors import ValidationError

OPERATORS: Final = (
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
)
NUMERIC_OPERATORS: Final = ("=", "<", "<=", ">", ">=")
RESERVED_IN_OR: Final = frozenset((*OPERATORS, *NUMERIC_OPERATORS, "equals"))
"""Names that may not be used as field names inside a ``$or`` element."""

MAX_COMBINATIONS: Final = 1000
"""Most branches the ``$or`` clauses of one pattern may expand to."""

MAX_NESTING: Final = 100
"""Deepest object nesting accepted in a pattern."""


@dataclass(frozen=True)
class Field:
    """One leaf of a branch: a path and the values it may take (any of them)."""

    path: Path
    matchers: tuple[Matcher, ...]
    allows_absent: bool = False
    """True when ``{"exists": false}`` is among the values."""

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def test(self, value: Leaf) -> bool:
        return any(matcher.test(value) for matcher in self.matchers)


class _Node:
    """A node of a branch's field tree: children by key, and maybe a field ending here."""

    __slots__ = ("can_be_absent", "children", "field", "subtree")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.field: Field | None = None
        self.subtree: list[Field] = []
        self.can_be_absent = True

    def finish(self) -> None:
        for child in self.children.values():
            child.finish()
            self.subtree.extend(child.subtree)
        if self.field is not None:
            self.subtree.append(self.field)
        self.can_be_absent = all(f.allows_absent for f in self.subtree)


class Branch:
    """One AND-group of fields; the pattern matches when any of its branches does."""

    __slots__ = ("_root", "fields")

    def __init__(self, fields: tuple[Field, ...]) -> None:
        self.fields = fields
        root = _Node()
        for f in fields:
            node = root
            for key in f.path:
                node = node.children.setdefault(key, _Node())
            node.field = f
        root.finish()
        self._root = root

    def matches(self, event: Event) -> bool:
        # Fields whose path holds one value outside any array are decided by that value
        # alone; as soon as a field's values come from arrays, the tree walk decides.
        leaves = event.leaves
        for f in self.fields:
            values = leaves.get(f.path)
            if values is None:
                if f.allows_absent:
                    continue
                return False
            if len(values) > 1 or values[0][1]:
                return _match_object(self._root, event.root, event)
            value = values[0][0]
            for matcher in f.matchers:
                if matcher.test(value):
                    break
            else:
                return False
        return True


def _absent(node: _Node, event: Event) -> bool:
    """Every field at or under ``node`` accepts absence and has no value in the event."""
    return node.can_be_absent and not any(event.has_path(f.path) for f in node.subtree)


def _match_object(node: _Node, obj: dict[str, Any], event: Event) -> bool:
    return all(
        _match_value(child, obj.get(key, _MISSING), event)
        for key, child in node.children.items()
    )


def _match_value(node: _Node, value: Any, event: Event) -> bool:
    """Whether the event's value at ``node`` (missing, a value, or an array) satisfies it."""
    if value is _MISSING:
        return _absent(node, event)
    if not isinstance(value, list):
        return _match_item(node, value, event)
    empty = True
    for item in array_items(value):
        if _match_item(node, item, event):
            return True
        empty = False
    # An array with no elements holds no leaf: only absence can satisfy the node.
    return empty and _absent(node, event)


def _match_item(node: _Node, item: Any, event: Event) -> bool:
    """Whether one value (never an array) satisfies ``node``'s field and subtree."""
    is_object = isinstance(item, dict)
    f = node.field
    if f is not None:
        matched = not is_object and f.test(item)
        if not matched and not (f.allows_absent and not event.has_path(f.path)):
            return False
    if node.children:
        if is_object:
            return _match_object(node, item, event)
        return all(_absent(child, event) for child in node.children.values())
    return True


_MISSING: Any = object()


@dataclass(frozen=True, eq=False)
class Pattern:
    """A compiled event pattern. ``source`` is the pattern as parsed."""

    source: dict[str, Any]
    branches: tuple[Branch, ...]

    def matches(self, event: Event | str | bytes | Mapping[str, Any]) -> bool:
        """Whether ``event`` (JSON text, a mapping, or a parsed :class:`Event`) matches."""
        parsed = parse_event(event)
        return any(branch.matches(parsed) for branch in self.branches)

    @property
    def fields(self) -> list[str]:
        """Names of the fields the pattern looks at, sorted."""
        return sorted({f.name for branch in self.branches for f in branch.fields})


def compile_pattern(source: Pattern | str | bytes | Mapping[str, Any]) -> Pattern:
    """Parse and validate an event pattern (JSON text or a mapping).

    Raises ValidationError naming the offending field and operator.
    """
    if isinstance(source, Pattern):
        return source
    if isinstance(source, (str, bytes, bytearray)):
        data = load_json(bytes(source) if isinstance(source, bytearray) else source,
                         "event pattern")
    else:
        data = from_python(source, "event pattern")
    if not isinstance(data, dict):
        raise ValidationError(f"an event pattern must be a JSON object, not {describe(data)}")
    branches = _compile_object(data, (), [{}], in_or=False, loc="", depth=0)
    return Pattern(data, tuple(Branch(tuple(b.values())) for b in branches))


def matches(pattern: Pattern | str | bytes | Mapping[str, Any],
            event: Event | str | bytes | Mapping[str, Any]) -> bool:
    """Whether one event matches one pattern (each may be JSON text or a mapping)."""
    return compile_pattern(pattern).matches(event)


# --- compilation ----------------------------------------------------------------------

_Draft = dict[Path, Field]


def _fail(loc: str, message: str) -> ValidationError:
    where = f" at {loc}" if loc else ""
    return ValidationError(f"invalid event pattern{where}: {message}")


def _join(loc: str, key: str) -> str:
    return key if not loc else f"{loc}.{key}"


def _compile_object(obj: dict[str, Any], path: Path, branches: list[_Draft], *,
                    in_or: bool, loc: str, depth: int) -> list[_Draft]:
    if depth > MAX_NESTING:
        raise _fail(loc, f"objects are nested more than {MAX_NESTING} levels deep")
    if not obj:
        raise _fail(loc, "an empty object is not allowed; list at least one field")
    for key, value in obj.items():
        here = _join(loc, key)
        if key == "$or":
            branches = _compile_or(value, path, branches, loc=here, depth=depth)
            continue
        if in_or and key in RESERVED_IN_OR:
            raise _fail(here, f'"{key}" is an operator name and cannot be a field name '
                              'inside "$or"')
        if isinstance(value, dict):
            branches = _compile_object(value, (*path, key), branches, in_or=in_or,
                                       loc=here, depth=depth + 1)
        elif isinstance(value, list):
            compiled = _compile_field(value, (*path, key), here)
            for draft in branches:
                draft[compiled.path] = compiled  # a repeated path: the last one wins
        else:
            hint = (f' (operators go inside an array: "{loc or "field"}": '
                    f'[{{"{key}": ...}}])' if key in OPERATORS else "")
            raise _fail(here, f"must be an object or an array of match values, "
                              f"not {describe(value)}{hint}")
    return branches


def _compile_or(value: Any, path: Path, branches: list[_Draft], *, loc: str,
                depth: int) -> list[_Draft]:
    if not isinstance(value, list):
        raise _fail(loc, f'"$or" must be an array of at least two objects, '
                         f"not {describe(value)}")
    if len(value) < 2:
        raise _fail(loc, f'"$or" needs at least two objects, found {len(value)}')
    result: list[_Draft] = []
    for index, element in enumerate(value):
        here = f"{loc}[{index}]"
        if not isinstance(element, dict):
            raise _fail(here, f'every element of "$or" must be an object, '
                              f"not {describe(element)}")
        copies = [dict(draft) for draft in branches]
        result.extend(_compile_object(element, path, copies, in_or=True, loc=here,
                                      depth=depth + 1))
        if len(result) > MAX_COMBINATIONS:
            raise _fail(loc, f'the "$or" clauses expand to more than {MAX_COMBINATIONS} '
                             "combinations")
    return result


_ABSENT: Any = object()


def _compile_field(values: list[Any], path: Path, loc: str) -> Field:
    if not values:
        raise _fail(loc, "the array of match values is empty")
    matchers: list[Matcher] = []
    allows_absent = False
    for index, value in enumerate(values):
        here = f"{loc}[{index}]"
        if isinstance(value, dict):
            matcher = _compile_operator(value, here)
            if matcher is _ABSENT:
                allows_absent = True
            else:
                matchers.append(matcher)
        elif isinstance(value, list):
            raise _fail(here, "a match value must be a string, number, true, false, null "
                              "or an operator object, not an array")
        else:
            matchers.append(Exact(value))
    return Field(path, tuple(matchers), allows_absent)


def _compile_operator(expression: dict[str, Any], loc: str) -> Any:
    if len(expression) != 1:
        found = ", ".join(f'"{k}"' for k in expression) or "nothing"
        raise _fail(loc, f"an operator object holds exactly one operator "
                         f"({', '.join(OPERATORS)}); found {found}")
    ((name, arg),) = expression.items()
    here = _join(loc, name)
    if name in ("prefix", "suffix"):
        kind = Prefix if name == "prefix" else Suffix
        if isinstance(arg, str):
            return kind(arg)
        if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
            text = arg["equals-ignore-case"]
            if not isinstance(text, str):
                raise _fail(_join(here, "equals-ignore-case"),
                            f"must be a string, not {describe(text)}")
            return kind(text, ignore_case=True)
        raise _fail(here, f'must be a string or {{"equals-ignore-case": string}}, '
                          f"not {describe(arg)}")
    if name == "equals-ignore-case":
        if not isinstance(arg, str):
            raise _fail(here, f"must be a string, not {describe(arg)}")
        return EqualsIgnoreCase(arg)
    if name == "wildcard":
        return _wildcard(arg, here)
    if name == "exists":
        if not isinstance(arg, bool):
            raise _fail(here, f"must be true or false, not {describe(arg)}")
        return Exists() if arg else _ABSENT
    if name == "cidr":
        if not isinstance(arg, str):
            raise _fail(here, f"must be a string such as \"10.0.0.0/24\", not {describe(arg)}")
        try:
            return Cidr(arg)
        except ValueError as exc:
            raise _fail(here, str(exc)) from None
    if name == "numeric":
        return _numeric(arg, here)
    if name == "anything-but":
        return _anything_but(arg, here)
    raise _fail(loc, f'unknown operator "{name}"; expected one of {", ".join(OPERATORS)}')


def _wildcard(arg: Any, loc: str) -> Wildcard:
    if not isinstance(arg, str):
        raise _fail(loc, f"must be a string, not {describe(arg)}")
    try:
        return Wildcard(arg)
    except ValueError as exc:
        raise _fail(loc, str(exc)) from None


def _number_key(value: Any, loc: str, what: str) -> int:
    if not isinstance(value, JsonNumber):
        raise _fail(loc, f"{what} must be a number, not {describe(value)}")
    key = value.key
    if key is None:
        raise _fail(loc, f"{what} {value.text} is outside the supported range "
                         "-5.0e9 to 5.0e9")
    return key


def _numeric(arg: Any, loc: str) -> Numeric:
    usage = ('expects ["=", n], ["<" or "<=", n], [">" or ">=", n] '
             'or [">" or ">=", low, "<" or "<=", high]')
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _fail(loc, f"{usage}; got {describe(arg)}"
                         + (f" of {len(arg)} elements" if isinstance(arg, list) else ""))
    first = arg[0]
    if first not in NUMERIC_OPERATORS:
        raise _fail(loc, f"unknown comparison {describe(first)}; {usage}")
    key = _number_key(arg[1], loc, f'the value after "{first}"')
    if first == "=":
        if len(arg) != 2:
            raise _fail(loc, f'"=" takes exactly one number; {usage}')
        return Numeric(key, False, key, False)
    if first in ("<", "<="):
        if len(arg) != 2:
            raise _fail(loc, f'an upper bound comes after the lower bound; {usage}')
        return Numeric(high=key, high_open=first == "<")
    if len(arg) == 2:
        return Numeric(low=key, low_open=first == ">")
    second = arg[2]
    if second not in ("<", "<="):
        raise _fail(loc, f'the second comparison must be "<" or "<=", not {describe(second)}')
    high = _number_key(arg[3], loc, f'the value after "{second}"')
    if decimal_of(arg[1]) >= decimal_of(arg[3]):
        raise _fail(loc, f"the lower bound {arg[1].text} must be less than the upper "
                         f"bound {arg[3].text}")
    return Numeric(key, first == ">", high, second == "<")


_ANYTHING_BUT_OF = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def _anything_but(arg: Any, loc: str) -> AnythingBut | AnythingButOf:
    if isinstance(arg, str):
        return AnythingBut(strings=frozenset((arg,)))
    if isinstance(arg, JsonNumber):
        return AnythingBut(numbers=frozenset((_number_key(arg, loc, "a number"),)))
    if isinstance(arg, list):
        if not arg:
            raise _fail(loc, "the list is empty")
        if all(isinstance(v, str) for v in arg):
            return AnythingBut(strings=frozenset(arg))
        if all(isinstance(v, JsonNumber) for v in arg):
            return AnythingBut(numbers=frozenset(
                _number_key(v, f"{loc}[{i}]", "a number") for i, v in enumerate(arg)))
        raise _fail(loc, "the list must hold only strings or only numbers")
    if isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in _ANYTHING_BUT_OF:
            found = ", ".join(f'"{k}"' for k in arg) or "nothing"
            raise _fail(loc, f"an object here holds exactly one of "
                             f"{', '.join(_ANYTHING_BUT_OF)}; found {found}")
        ((name, text),) = arg.items()
        here = _join(loc, name)
        if isinstance(text, list):
            raise _fail(here, "takes a single string, not a list")
        if not isinstance(text, str):
            raise _fail(here, f"must be a string, not {describe(text)}")
        if name == "wildcard":
            return AnythingButOf(_wildcard(text, here))
        if name == "equals-ignore-case":
            return AnythingButOf(EqualsIgnoreCase(text))
        if not text:
            raise _fail(here, "cannot be empty")
        return AnythingButOf(Prefix(text) if name == "prefix" else Suffix(text))
    raise _fail(loc, f"must be a string, a number, a list of strings or of numbers, or an "
                     f"object with prefix, suffix, equals-ignore-case or wildcard; "
                     f"not {describe(arg)}")
