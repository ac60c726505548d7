"""A record flowing through a query, with its JSON fields discovered on first need."""

from __future__ import annotations

from typing import Any

import orjson

MESSAGE = "@message"
_MISSING = object()


class Row:
    """Fields of one log event (or one ``stats`` group).

    ``@message`` holding a JSON object is flattened into fields on the first lookup of a
    field the row does not have: nested keys join with ``.`` (``user.id``), array items
    by index (``tags.0``). Fields already present win over discovered ones.
    """

    __slots__ = ("_discovered", "fields", "max_fields")

    def __init__(self, fields: dict[str, Any], max_fields: int = 1000,
                 discovered: bool = False) -> None:
        self.fields = fields
        self.max_fields = max_fields
        self._discovered = discovered

    def get(self, name: str) -> Any:
        value = self.fields.get(name, _MISSING)
        if value is not _MISSING:
            return value
        if not self._discovered:
            self._discover()
            return self.fields.get(name)
        return None

    def set(self, name: str, value: Any) -> None:
        self.fields[name] = value

    def _discover(self) -> None:
        self._discovered = True
        message = self.fields.get(MESSAGE)
        if not isinstance(message, str):
            return
        stripped = message.lstrip()
        if not stripped.startswith("{"):
            return
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return
        if isinstance(document, dict):
            flatten_into(self.fields, document, self.max_fields)


def flatten_into(fields: dict[str, Any], document: dict[str, Any], limit: int) -> None:
    """Add the leaves of ``document`` as dotted names, at most ``limit`` of them."""
    added = 0
    stack: list[tuple[str, Any]] = [(str(key), value) for key, value in
                                    reversed(list(document.items()))]
    while stack and added < limit:
        name, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{name}.{key}", child) for key, child in
                         reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{name}.{index}", child) for index, child in
                         reversed(list(enumerate(value))))
        elif value is not None and name not in fields:
            fields[name] = value
            added += 1
