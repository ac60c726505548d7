"""Regular expressions that cannot hang a search: each search has a time limit.

A pattern that is plain text, or plain alternatives (``ERROR|Exception``), is searched
as text, which is much faster than a timed regex search and cannot backtrack.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

from pipetrail.logs.syntax import QueryLimitError

_METACHARACTERS = frozenset(".^$*+?()[]{}|\\")


class BoundedRegex:
    """``search(text)`` is True when the pattern occurs; raises ``QueryLimitError`` when a
    single search runs longer than ``timeout`` seconds."""

    def __init__(self, source: str, compiled: regex.Pattern[str], timeout: float,
                 describe: str) -> None:
        self.source = source
        self.compiled = compiled
        self.timeout = timeout
        self.describe = describe
        self.search: Callable[[str], bool] = self._plain_search() or self._timed_search

    def _plain_search(self) -> Callable[[str], bool] | None:
        alternatives = self.source.split("|")
        for alternative in alternatives:
            if not alternative or any(char in _METACHARACTERS for char in alternative):
                return None
        if len(alternatives) == 1:
            only = alternatives[0]
            return lambda text: only in text
        return lambda text: any(alternative in text for alternative in alternatives)

    def _timed_search(self, text: str) -> bool:
        try:
            return self.compiled.search(text, timeout=self.timeout) is not None
        except TimeoutError:
            raise QueryLimitError(
                f"the regular expression {self.describe} took longer than {self.timeout} s on "
                "one log event; make it more specific") from None
