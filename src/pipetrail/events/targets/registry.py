"""The kinds of target, by name. Built-in kinds are registered here as any other."""

from __future__ import annotations

from pipetrail.events.targets.command import COMMAND
from pipetrail.events.targets.email import EMAIL
from pipetrail.events.targets.kind import TargetKind
from pipetrail.events.targets.slack import SLACK
from pipetrail.events.targets.webhook import WEBHOOK
from pipetrail.model.errors import ValidationError

_KINDS: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> None:
    """Make a kind of target available under ``kind.name`` (replacing one of that name)."""
    _KINDS[kind.name] = kind


def get_kind(name: str) -> TargetKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValidationError(f"unknown target type {name!r}; one of "
                              f"{', '.join(sorted(_KINDS))}") from None


def kind_names() -> list[str]:
    return sorted(_KINDS)


for _builtin in (WEBHOOK, SLACK, EMAIL, COMMAND):
    register(_builtin)
