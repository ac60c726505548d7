"""Policy variables and wildcards inside policy strings.

A policy string is read into a *template*: a tuple of literal text, wildcards (``*``,
``?``) and variables (``${pipetrail:username}``, ``${pipetrail:username, 'nobody'}``).
The special variables ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters.
Variables exist only in policies of Version ``2012-10-17``; elsewhere ``${…}`` is text.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from pipetrail.access.context import RequestContext
from pipetrail.model.errors import ValidationError


class Wildcard(enum.Enum):
    ANY = "*"
    ONE = "?"


@dataclass(frozen=True, slots=True)
class Variable:
    """``${name}`` or ``${name, 'default'}``; ``key`` is the name in lower case."""

    key: str
    name: str
    text: str
    default: str | None = None


Part = str | Wildcard | Variable
Template = tuple[Part, ...]
Resolved = tuple[str | Wildcard, ...]

_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_VARIABLE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*:[^\s'{},$\x00-\x1f\x7f]+\Z")


def parse_template(text: str, *, variables: bool, wildcards: bool, where: str) -> Template:
    """Read ``text`` into a template; ``where`` names its place for error messages."""
    parts: list[Part] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            parts.append("".join(literal))
            literal.clear()

    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if wildcards and char in "*?":
            flush()
            parts.append(Wildcard(char))
            i += 1
        elif variables and char == "$" and i + 1 < length and text[i + 1] == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise ValidationError(
                    f"{where}: policy variable at offset {i} of {text!r} has no closing '}}'"
                )
            body = text[i + 2:end]
            if body in _ESCAPES:
                literal.append(_ESCAPES[body])
            else:
                flush()
                parts.append(_variable(body, text[i:end + 1], where))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    flush()
    return tuple(parts)


def _closing_brace(text: str, start: int) -> int:
    quoted = False
    for j in range(start, len(text)):
        char = text[j]
        if char == "'":
            quoted = not quoted
        elif char == "}" and not quoted:
            return j
    return -1


def _variable(body: str, written: str, where: str) -> Variable:
    key_text, comma, default_text = body.partition(",")
    key = key_text.strip()
    default: str | None = None
    if comma:
        quoted = default_text.strip()
        if len(quoted) < 2 or quoted[0] != "'" or quoted[-1] != "'" or "'" in quoted[1:-1]:
            raise ValidationError(
                f"{where}: the default value of policy variable {written} must be "
                "one string in single quotes, as in ${pipetrail:username, 'anonymous'}"
            )
        default = quoted[1:-1]
    if not _VARIABLE_KEY.match(key):
        raise ValidationError(
            f"{where}: {written} does not name a condition key; policy variables look "
            "like ${pipetrail:username} (or ${*}, ${?}, ${$} for those characters)"
        )
    return Variable(key.lower(), key, written, default)


def has_variables(template: Template) -> bool:
    return any(isinstance(part, Variable) for part in template)


def variable_names(templates: list[Template] | tuple[Template, ...]) -> tuple[str, ...]:
    """The condition keys the templates' variables read, as written, once each."""
    names: dict[str, str] = {}
    for template in templates:
        for part in template:
            if isinstance(part, Variable):
                names.setdefault(part.key, part.name)
    return tuple(names.values())


def has_wildcards(template: Template) -> bool:
    return any(isinstance(part, Wildcard) for part in template)


def resolve(template: Template, context: RequestContext) -> Resolved | None:
    """The template with its variables replaced; None when one has no value.

    A variable takes the single value of its key in the request context, else its
    default; a key that is absent or multivalued and has no default leaves the
    template unresolved, and an unresolved template matches nothing.
    """
    out: list[str | Wildcard] = []
    for part in template:
        if isinstance(part, Variable):
            value = context.single(part.key)
            if value is None:
                value = part.default
            if value is None:
                return None
            out.append(value)
        else:
            out.append(part)
    return tuple(out)


def static(template: Template) -> Resolved:
    """A template without variables, as resolved parts."""
    return tuple(part for part in template if not isinstance(part, Variable))


def text_of(parts: Resolved) -> str:
    """The literal text of resolved parts (wildcards written as themselves)."""
    return "".join(part.value if isinstance(part, Wildcard) else part for part in parts)
