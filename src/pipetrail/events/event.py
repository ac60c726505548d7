"""An event as the matchers read it: a JSON object, plus its leaves by field path.

A *leaf* is a string, number, true, false or null. Its *path* is the tuple of object
keys from the root down to it; arrays add nothing to the path (an array's elements all
sit at the array's own path), as in EventBridge, where a field matches if any element of
an array matches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipetrail.events.values import Leaf, describe, from_python, load_json
from pipetrail.model.errors import ValidationError

Path = tuple[str, ...]


class Event:
    """A parsed event. Build one with :func:`parse_event`."""

    __slots__ = ("_leaves", "root")

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._leaves: dict[Path, list[tuple[Leaf, bool]]] | None = None

    @property
    def leaves(self) -> dict[Path, list[tuple[Leaf, bool]]]:
        """Every leaf by path, each with whether it was reached through an array."""
        if self._leaves is None:
            self._leaves = _flatten(self.root)
        return self._leaves

    def has_path(self, path: Path) -> bool:
        """Whether any leaf value sits at ``path`` (objects and empty arrays are not leaves)."""
        return path in self.leaves


def parse_event(source: Event | str | bytes | Mapping[str, Any]) -> Event:
    """An :class:`Event` from JSON text or a Python mapping; ValidationError if not an object."""
    if isinstance(source, Event):
        return source
    if isinstance(source, (str, bytes, bytearray)):
        data = load_json(bytes(source) if isinstance(source, bytearray) else source, "event")
    else:
        data = from_python(source, "event")
    if not isinstance(data, dict):
        raise ValidationError(f"an event must be a JSON object, not {describe(data)}")
    return Event(data)


def array_items(values: list[Any]) -> Iterator[Any]:
    """The non-array items of an array, nested arrays flattened, in order."""
    stack: list[Iterator[Any]] = [iter(values)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            yield item
        else:
            stack.pop()


def _flatten(root: dict[str, Any]) -> dict[Path, list[tuple[Leaf, bool]]]:
    leaves: dict[Path, list[tuple[Leaf, bool]]] = {}
    stack: list[tuple[Any, Path, bool]] = [(root, (), False)]
    while stack:
        value, path, in_array = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                stack.append((child, (*path, key), in_array))
        elif isinstance(value, list):
            for child in value:
                stack.append((child, path, True))
        else:
            bucket = leaves.get(path)
            if bucket is None:
                leaves[path] = [(value, in_array)]
            else:
                bucket.append((value, in_array))
    return leaves
