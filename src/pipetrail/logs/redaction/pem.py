"""Private keys in PEM form, which span lines.

A job that prints a key line by line produces one log event per line: the ``BEGIN``
line, the base64 body lines, the ``END`` line. :class:`PemTracker` follows one stream:
after a ``-----BEGIN … PRIVATE KEY-----`` marker without its ``END``, the events that
follow are masked until the ``END`` marker, as long as they look like a key's body
(base64, a ``Header: value`` line such as ``Proc-Type:``, a blank line, or a line that
ends in a run of 16 or more base64 characters after a prefix such as a logging format's).
Any other line ends the block: it is not masked, so output after a malformed key is not
lost. Inside one event, everything between the markers is masked (a whole key in one
logging record, with real or JSON-escaped newlines); a BEGIN without END masks the rest
of the event. The markers themselves stay, so the stored text still shows a key was
there.
"""

from __future__ import annotations

import re

from pipetrail.logs.redaction.rules import mask

BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
END = re.compile(r"-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_BODY = re.compile(r"\s*(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z][A-Za-z0-9\-]*:.*)?\s*")
_TRAILING_BODY = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,}={0,2}\s*$")
MASK = mask("private-key")


class PemTracker:
    """The private-key state of one stream."""

    def __init__(self) -> None:
        self.in_block = False
        self.saw_body = False
        self._began_in_block = False

    def feed(self, text: str, *, partial: bool = False, lenient: bool = False) -> str:
        """``text`` with key material masked.

        ``partial``: the text is a piece of a longer line; inside a block it is masked
        whole. ``lenient`` (a value inside a JSON event): only base64 of 16 or more
        characters counts as a key's body (so ``"INFO"`` is not taken for one), and other
        text is left as it is without ending the block (see :meth:`end_event`).
        """
        if self.in_block:
            end = END.search(text)
            if end is not None:
                self.in_block = False
                return self._body(text[:end.start()], partial) + self._outside(text, end.start())
            if partial:
                return MASK
            if _BODY.fullmatch(text) and (not lenient or len(text.strip()) >= 16
                                          or ":" in text):
                self.saw_body = True
                return MASK if text.strip() else text
            tail = _TRAILING_BODY.search(text)
            if tail is not None:
                self.saw_body = True
                return text[:tail.start()] + MASK
            if lenient:
                return text
            self.in_block = False
        if "-----BEGIN" not in text:
            return text
        return self._outside(text, 0)

    @staticmethod
    def _body(text: str, partial: bool) -> str:
        """What comes before an END marker inside a block: key material is masked, a
        prefix such as a logging format's is kept (in a piece of a long line, all of it
        is masked)."""
        if not text.strip():
            return text
        if partial or _BODY.fullmatch(text):
            return MASK
        tail = _TRAILING_BODY.search(text.rstrip() + "\n")
        if tail is not None:
            return text[:tail.start()] + MASK
        return text

    def start_event(self) -> None:
        """Before the values of one JSON event are fed (``lenient``)."""
        self.saw_body = False
        self._began_in_block = self.in_block

    def end_event(self) -> None:
        """After the values of one JSON event: a block that was open before it and that
        none of its values continued ends."""
        if self.in_block and self._began_in_block and not self.saw_body:
            self.in_block = False

    def _outside(self, text: str, pos: int) -> str:
        """Mask every block from ``pos`` on, where ``pos`` is outside any block."""
        parts: list[str] = []
        while True:
            begin = BEGIN.search(text, pos)
            if begin is None:
                parts.append(text[pos:])
                return "".join(parts)
            parts.append(text[pos:begin.end()])
            end = END.search(text, begin.end())
            if end is None:
                if text[begin.end():].strip():
                    parts.append(MASK)
                else:
                    parts.append(text[begin.end():])
                self.in_block = True
                return "".join(parts)
            if end.start() > begin.end():
                parts.append(MASK)
            parts.append(text[end.start():end.end()])
            pos = end.end()
