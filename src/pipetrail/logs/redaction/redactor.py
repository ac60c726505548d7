"""Masking secrets in log events, line by line and stream by stream.

:class:`Redactor` masks one text with the built-in rules (:mod:`.rules`), the private-key
tracker (:mod:`.pem`) and custom patterns (:mod:`.custom`). A message that is a JSON
object (a Python logging record, structured output) is redacted value by value: a value
whose key names a credential (``"password"``, ``"SecretAccessKey"`` …) is masked whole,
every other string is redacted as text, and the object is written back as compact JSON
only when something was masked. So the stored JSON stays valid.

:class:`StreamRedactor` keeps what must carry over between the events of one stream: the
private-key state, and for a line that arrives in pieces (events marked ``partial``) the
end of the text seen so far. A piece is passed on only up to a point where no secret can
straddle it: the last :data:`HOLD` characters wait for the next piece, and a match that
crosses the cut moves it past the match. So a secret split across pieces is masked as
if the line were whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import regex

from pipetrail.logs.redaction.custom import (
    SEARCH_TIMEOUT,
    TIMEOUT_MASK,
    CustomPattern,
    RedactionTimeout,
)
from pipetrail.logs.redaction.pem import BEGIN, END, PemTracker
from pipetrail.logs.redaction.rules import (
    BUILTIN_RULES,
    MAX_MATCH,
    credential_kind,
    mask,
    may_hold_secret,
)

HOLD = MAX_MATCH


class Redactor:
    """Masks secrets in text; stateless apart from the :class:`PemTracker` passed in."""

    def __init__(self, custom: Sequence[CustomPattern] = ()) -> None:
        self.custom = tuple(custom)

    def redact(self, message: str, pem: PemTracker | None = None) -> str:
        """One complete message (JSON objects value by value)."""
        tracker = pem if pem is not None else PemTracker()
        if message[:1] == "{" or (message[:1].isspace() and message.lstrip()[:1] == "{"):
            redacted = self._redact_json(message, tracker)
            if redacted is not None:
                return redacted
        return self.redact_text(message, tracker)

    def redact_text(self, text: str, pem: PemTracker, *, partial: bool = False,
                    lenient: bool = False) -> str:
        try:
            if pem.in_block or "-----BEGIN" in text:
                text = pem.feed(text, partial=partial, lenient=lenient)
            if may_hold_secret(text):
                for rule in BUILTIN_RULES:
                    text = rule.apply(text)
            for pattern in self.custom:
                text = pattern.apply(text)
        except RedactionTimeout:
            return TIMEOUT_MASK
        return text

    def _redact_json(self, message: str, pem: PemTracker) -> str | None:
        """The redacted JSON text, the message itself when nothing needed masking, or None
        when the message is not a JSON object."""
        if (not pem.in_block and not self.custom and "\\u" not in message
                and "-----BEGIN" not in message and not may_hold_secret(message)):
            return message
        try:
            document = orjson.loads(message)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(document, dict):
            return None
        pem.start_event()
        changed, redacted = self._redact_value(document, pem)
        pem.end_event()
        if not changed:
            return message
        return orjson.dumps(redacted).decode()

    def _redact_value(self, value: Any, pem: PemTracker) -> tuple[bool, Any]:
        if isinstance(value, str):
            new = self.redact_text(value, pem, lenient=True)
            return new != value, new
        if isinstance(value, list):
            changed = False
            items = []
            for item in value:
                item_changed, new_item = self._redact_value(item, pem)
                changed |= item_changed
                items.append(new_item)
            return changed, items
        if isinstance(value, dict):
            changed = False
            result: dict[str, Any] = {}
            for key, item in value.items():
                kind = credential_kind(key) if isinstance(item, (str, int, float)) else None
                if kind is not None and not isinstance(item, bool) and item != "":
                    masked = mask(kind)
                    changed |= masked != item
                    result[key] = masked
                else:
                    item_changed, new_value = self._redact_value(item, pem)
                    changed |= item_changed
                    result[key] = new_value
            return changed, result
        return False, value


class StreamRedactor:
    """Redacts the events of many streams, each with its own carried-over state."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._pem: dict[tuple[str, str], PemTracker] = {}
        self._idle = PemTracker()
        self._held: dict[tuple[str, str], str] = {}

    def redact(self, stream: tuple[str, str], message: str, partial: bool = False
               ) -> str | None:
        """The redacted text to store for this event of ``stream``; None when a piece
        of a long line is held back whole until more of the line arrives."""
        if (not partial and not self._held and not self._pem and not self.redactor.custom
                and "-----BEGIN" not in message and "\\u" not in message
                and not may_hold_secret(message)):
            return message  # the common case: nothing to mask, nothing carried over
        kept = self._pem.get(stream)
        pem = kept if kept is not None else self._idle
        text = self._held.pop(stream, "") + message if self._held else message
        if partial:
            if len(text) <= 2 * HOLD:
                self._held[stream] = text
                return None
            cut = self._safe_cut(text, len(text) - HOLD)
            self._held[stream] = text[cut:]
            redacted = self.redactor.redact_text(text[:cut], pem, partial=True)
        else:
            redacted = self.redactor.redact(text, pem)
        # Only a stream inside a private key keeps a tracker of its own.
        if kept is None and pem.in_block:
            self._pem[stream] = pem
            self._idle = PemTracker()
        elif kept is not None and not kept.in_block:
            del self._pem[stream]
        return redacted

    def _safe_cut(self, text: str, cut: int) -> int:
        """Move ``cut`` forward past any match (of any rule) that crosses it."""
        patterns: list[Any] = [rule.pattern for rule in BUILTIN_RULES]
        patterns += [BEGIN, END]
        patterns += [pattern.compiled for pattern in self.redactor.custom]
        moved = True
        while moved:
            moved = False
            for pattern in patterns:
                try:
                    for match in _matches(pattern, text, max(0, cut - HOLD)):
                        if match.start() >= cut:
                            break
                        if match.end() > cut:
                            cut = match.end()
                            moved = True
                except TimeoutError:  # a custom pattern that slow masks the piece anyway
                    continue
        return min(cut, len(text))


def _matches(pattern: Any, text: str, pos: int) -> Any:
    if isinstance(pattern, regex.Pattern):
        return pattern.finditer(text, pos, timeout=SEARCH_TIMEOUT)
    return pattern.finditer(text, pos)
