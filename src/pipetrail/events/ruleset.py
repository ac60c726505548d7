"""Many named event patterns matched against an event at once.

The rule set indexes every field of every branch by path (:mod:`pipetrail.events.index`).
Matching an event walks the event's leaves once, looks each value up in the index of its
path and marks the fields it satisfies; ``exists: false`` fields are marked for paths the
event lacks. A branch with all fields marked matches, except that a branch whose marks
came through arrays in the event is confirmed by the single-pattern matcher (fields under
one array of objects must come from the same element). The answer is therefore always the
one :meth:`Pattern.matches` gives, rule by rule, at a cost that grows with the size of the
event and the number of matching fields rather than with the number of rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipetrail.events.event import Event, Path, parse_event
from pipetrail.events.index import Entry, PathIndex
from pipetrail.events.pattern import Branch, Pattern, compile_pattern
from pipetrail.model.errors import NotFoundError, ValidationError

PatternSource = Pattern | str | bytes | Mapping[str, Any]


class _Compiled:
    """The index over every branch of every rule; rebuilt when the rules change."""

    def __init__(self, rules: Mapping[str, Pattern]) -> None:
        self.names: list[str] = []
        self.branches: list[Branch] = []
        self.full: list[int] = []
        self.paths: dict[Path, PathIndex] = {}
        self.absent: dict[Path, list[Entry]] = {}
        for name, pattern in rules.items():
            for branch in pattern.branches:
                number = len(self.branches)
                self.names.append(name)
                self.branches.append(branch)
                self.full.append((1 << len(branch.fields)) - 1)
                for position, f in enumerate(branch.fields):
                    entry = (number, 1 << position)
                    if f.matchers:
                        index = self.paths.get(f.path)
                        if index is None:
                            index = self.paths[f.path] = PathIndex()
                        for matcher in f.matchers:
                            index.add(matcher, entry)
                    if f.allows_absent:
                        self.absent.setdefault(f.path, []).append(entry)
        for index in self.paths.values():
            index.seal()

    def matching(self, event: Event) -> list[str]:
        leaves = event.leaves
        marks: dict[int, int] = {}
        through_array: set[int] = set()
        hits: list[Entry] = []
        if len(self.paths) <= len(leaves):
            pairs: Iterator[tuple[Path, PathIndex]] = iter(self.paths.items())
        else:
            pairs = ((p, self.paths[p]) for p in leaves if p in self.paths)
        for path, index in pairs:
            values = leaves.get(path)
            if values is None:
                continue
            for value, in_array in values:
                index.collect(value, hits)
                if not hits:
                    continue
                for number, bit in hits:
                    marks[number] = marks.get(number, 0) | bit
                if in_array:
                    through_array.update(number for number, _ in hits)
                hits.clear()
        for path, entries in self.absent.items():
            if path not in leaves:
                for number, bit in entries:
                    marks[number] = marks.get(number, 0) | bit
        found: set[str] = set()
        for number, mark in marks.items():
            if mark != self.full[number]:
                continue
            name = self.names[number]
            if name in found:
                continue
            if number in through_array and not self.branches[number].matches(event):
                continue
            found.add(name)
        return sorted(found)


class RuleSet:
    """Named event patterns; :meth:`matching` names those an event matches.

    Adding a rule under an existing name replaces it. The index is rebuilt lazily on
    the first match after a change.
    """

    def __init__(self, rules: Mapping[str, PatternSource] | None = None) -> None:
        self._rules: dict[str, Pattern] = {}
        self._compiled: _Compiled | None = None
        for name, pattern in (rules or {}).items():
            self.add(name, pattern)

    def add(self, name: str, pattern: PatternSource) -> Pattern:
        """Compile ``pattern`` and store it under ``name``; ValidationError if invalid."""
        if not isinstance(name, str) or not name:
            raise ValidationError("a rule needs a non-empty name")
        compiled = compile_pattern(pattern)
        self._rules[name] = compiled
        self._compiled = None
        return compiled

    def remove(self, name: str) -> None:
        if name not in self._rules:
            raise NotFoundError(f"no rule named {name!r}")
        del self._rules[name]
        self._compiled = None

    def get(self, name: str) -> Pattern:
        try:
            return self._rules[name]
        except KeyError:
            raise NotFoundError(f"no rule named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def matching(self, event: Event | str | bytes | Mapping[str, Any]) -> list[str]:
        """The sorted names of the rules whose pattern matches ``event``."""
        parsed = parse_event(event)
        if self._compiled is None:
            self._compiled = _Compiled(self._rules)
        return self._compiled.matching(parsed)
