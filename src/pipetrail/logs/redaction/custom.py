"""Redaction patterns of one's own: ``PIPETRAIL_REDACT_PATTERNS`` and ``PIPETRAIL_REDACT_FILE``.

Each pattern is a regular expression (the ``regex`` module's syntax, a superset of
Python's ``re``). A match is replaced by ``[REDACTED:custom]``; when the pattern has a
group named ``secret``, only that group is (``customer=(?P<secret>\\d{8})`` keeps
``customer=``). A search that runs longer than :data:`SEARCH_TIMEOUT` seconds on one
event masks the whole event, so a slow pattern can neither hang ingest nor let a secret
through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex

from pipetrail.logs.redaction.rules import mask
from pipetrail.model.errors import ValidationError

SEARCH_TIMEOUT = 0.05
MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 2000
MASK = mask("custom")
TIMEOUT_MASK = mask("redaction-timeout")


class RedactionTimeout(Exception):
    """A custom pattern took too long on one text."""


@dataclass(frozen=True)
class CustomPattern:
    source: str
    compiled: regex.Pattern[str]

    def apply(self, text: str) -> str:
        try:
            return self.compiled.sub(self._replace, text, timeout=SEARCH_TIMEOUT)
        except TimeoutError:
            raise RedactionTimeout(self.source) from None

    def _replace(self, match: regex.Match[str]) -> str:
        if "secret" not in self.compiled.groupindex or match.start("secret") < 0:
            return MASK
        start, end = match.span("secret")
        return match.string[match.start():start] + MASK + match.string[end:match.end()]


def compile_patterns(sources: Iterable[str]) -> tuple[CustomPattern, ...]:
    """Compile custom patterns; a bad one raises ``ValidationError`` naming it."""
    compiled = []
    for number, source in enumerate(sources, start=1):
        if len(source) > MAX_PATTERN_LENGTH:
            raise ValidationError(f"redaction pattern {number} is longer than "
                                  f"{MAX_PATTERN_LENGTH} characters")
        try:
            pattern = regex.compile(source)
        except regex.error as exc:
            raise ValidationError(
                f"redaction pattern {number} ({source!r}) is not a valid regular "
                f"expression: {exc}") from None
        if pattern.search("") is not None:
            raise ValidationError(f"redaction pattern {number} ({source!r}) matches empty "
                                  "text; it must match the secret itself")
        compiled.append(CustomPattern(source, pattern))
        if len(compiled) > MAX_PATTERNS:
            raise ValidationError(f"at most {MAX_PATTERNS} redaction patterns")
    return tuple(compiled)
