"""What a kind of target is: how its configuration is checked and how an event is sent.

Built-in kinds (``webhook``, ``slack``, ``email``, ``command``) are registered in
:mod:`pipetrail.events.targets.registry` exactly as another kind would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pipetrail.events.settings import DeliverySettings

if TYPE_CHECKING:
    import httpx


class DeliveryError(Exception):
    """A failed attempt. ``code`` is EventBridge-style (``TIMEOUT``, ``HTTP_503``,
    ``NO_RESOURCE`` …); non-retriable errors go to the dead letters at once."""

    def __init__(self, code: str, message: str, *, retriable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retriable = retriable


@dataclass
class SendContext:
    """What a send needs besides the target and the event."""

    delivery_id: str
    event_id: str
    attempt: int
    timeout: float
    settings: DeliverySettings
    http: httpx.Client | None = None


class TargetKind(Protocol):
    name: str
    secret_label: str | None
    """What the target's secret is (``"signing secret"``, ``"webhook URL"``), or None
    when the kind has none."""
    default_timeout: float

    def new_secret(self) -> str | None:
        """A secret for a new target given none (None: the kind makes none up)."""
        ...

    def check(self, config: Mapping[str, Any], secret: str | None
              ) -> tuple[dict[str, Any], str | None]:
        """Validate the kind's own settings and secret; return them normalised (the
        settings JSON-ready, without anything secret)."""
        ...

    def describe(self, config: Mapping[str, Any]) -> str:
        """A one-line description without secrets, for listings."""
        ...

    def send(self, config: Mapping[str, Any], secret: str | None, event_text: str,
             ctx: SendContext) -> None:
        """Deliver ``event_text`` (the event as JSON); raise DeliveryError on failure."""
        ...
