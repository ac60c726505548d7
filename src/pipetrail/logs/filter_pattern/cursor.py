"""A position in pattern text, with the small reading steps the pattern parsers share."""

from __future__ import annotations

from pipetrail.logs.syntax import SyntaxProblem

LANGUAGE = "filter pattern"
MAX_NESTING = 32


class Cursor:
    """Reads ``text[pos:end]``; errors carry offsets into the whole ``text``."""

    def __init__(self, text: str, pos: int = 0, end: int | None = None) -> None:
        self.text = text
        self.pos = pos
        self.end = len(text) if end is None else end

    def eof(self) -> bool:
        return self.pos >= self.end

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < self.end else ""

    def startswith(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.pos, self.end)

    def skip_ws(self) -> None:
        while self.pos < self.end and self.text[self.pos].isspace():
            self.pos += 1

    def read_while(self, accept: str | None = None, *, stop: str = "") -> str:
        """Characters up to whitespace or one of ``stop`` (or while in ``accept``)."""
        start = self.pos
        while self.pos < self.end:
            char = self.text[self.pos]
            if accept is not None:
                if char not in accept:
                    break
            elif char.isspace() or char in stop:
                break
            self.pos += 1
        return self.text[start:self.pos]

    def read_letters(self) -> str:
        start = self.pos
        while self.pos < self.end and self.text[self.pos].isalpha():
            self.pos += 1
        return self.text[start:self.pos]

    def read_quoted(self) -> str:
        """A ``"..."`` string at the cursor (``\\"`` and ``\\\\`` escape); the content."""
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < self.end and self.text[self.pos + 1] in '"\\':
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error("this quote is never closed", start)

    def error(self, problem: str, at: int | None = None) -> SyntaxProblem:
        return SyntaxProblem(LANGUAGE, self.text, self.pos if at is None else at, problem)
