"""Unstructured patterns: terms that must appear (``ERROR``), may appear (``?WARN``) or
must not appear (``-DEBUG``), and ``"quoted phrases"``.

Semantics (checked against CloudWatch Logs' own TestMetricFilter answers):

- A term matches when it occurs anywhere in the event, case-sensitively
  (``ERROR`` matches ``TERROR`` and ``ERROR_ARGUMENTS``, not ``error``).
- Every plain term must occur and no ``-`` term may occur.
- ``?`` terms are alternatives: the event needs one of them — but only when the pattern
  holds nothing else; next to plain or ``-`` terms the ``?`` terms are ignored.
- Unquoted terms hold letters, digits and ``_`` only; quote anything else.
"""

from __future__ import annotations

from collections.abc import Callable

from pipetrail.logs.filter_pattern.cursor import Cursor

Matcher = Callable[[str], bool]


def parse_terms(text: str) -> Matcher:
    cur = Cursor(text)
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    cur.skip_ws()
    while not cur.eof():
        prefix_at = cur.pos
        prefix = ""
        if cur.peek() in "?-":
            prefix = cur.peek()
            cur.pos += 1
            cur.skip_ws()
            if cur.eof():
                raise cur.error(f"{prefix!r} must be followed by a term", prefix_at)
        term = _read_term(cur)
        if prefix == "-":
            excluded.append(term)
        elif prefix == "?":
            optional.append(term)
        else:
            required.append(term)
        cur.skip_ws()
    if required or excluded:
        if len(required) == 1 and not excluded:
            only = required[0]
            return lambda message: only in message

        def every_and_none(message: str) -> bool:
            for term in required:
                if term not in message:
                    return False
            return all(term not in message for term in excluded)
        return every_and_none
    if optional:
        def any_of(message: str) -> bool:
            return any(term in message for term in optional)
        return any_of
    return lambda message: True


def _read_term(cur: Cursor) -> str:
    start = cur.pos
    if cur.peek() == '"':
        term = cur.read_quoted()
        if not cur.eof() and not cur.peek().isspace():
            raise cur.error("put a space after a quoted term")
        return term
    while not cur.eof() and not cur.peek().isspace():
        char = cur.peek()
        if not (char.isalnum() or char == "_"):
            raise cur.error(
                f"{char!r} cannot appear in an unquoted term; terms with characters other "
                'than letters, digits and _ must be in double quotes, like "a-b"'
            )
        cur.pos += 1
    return cur.text[start:cur.pos]
