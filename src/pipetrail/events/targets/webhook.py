"""Webhook targets: the event as the JSON body of a signed POST.

Headers: ``X-Pipetrail-Timestamp`` (Unix seconds when the request was signed) and
``X-Pipetrail-Signature: sha256=<hex>``, the HMAC-SHA256 keyed with the target's secret
of the timestamp, a full stop, and the raw body bytes (``f"{timestamp}.{body}"``). The
timestamp is signed with the body so that a captured request cannot be replayed later
with a fresh timestamp; a receiver recomputes the HMAC, compares in constant time, and
refuses timestamps more than a few minutes old. Also sent: ``X-Pipetrail-Event-Id``,
``X-Pipetrail-Delivery-Id`` (the same on every retry of one delivery, for
deduplication) and ``X-Pipetrail-Attempt``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from pipetrail.events.targets.http_post import check_url, post, shown_url
from pipetrail.events.targets.kind import DeliveryError, SendContext
from pipetrail.model.errors import ValidationError

SIGNATURE_HEADER = "X-Pipetrail-Signature"
TIMESTAMP_HEADER = "X-Pipetrail-Timestamp"
MIN_SECRET = 16
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED = frozenset({"content-type", "content-length", "host", "user-agent"})


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           tolerance: float = 300.0, now: float | None = None) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class Webhook:
    name = "webhook"
    secret_label: str | None = "signing secret"
    default_timeout = 5.0

    def new_secret(self) -> str | None:
        return new_secret()

    def check(self, config: Mapping[str, Any], secret: str | None
              ) -> tuple[dict[str, Any], str | None]:
        extra = set(config) - {"url", "headers"}
        if extra:
            raise ValidationError(f"a webhook target takes no {', '.join(sorted(extra))}")
        url = check_url(config.get("url"))
        if secret is None or len(secret) < MIN_SECRET:
            raise ValidationError(f"a webhook's signing secret needs at least {MIN_SECRET} "
                                  "characters")
        headers = config.get("headers") or {}
        if not isinstance(headers, Mapping) or len(headers) > MAX_HEADERS:
            raise ValidationError(f"headers: at most {MAX_HEADERS} NAME: VALUE pairs")
        for key, value in headers.items():
            if not isinstance(key, str) or not _HEADER_NAME.fullmatch(key):
                raise ValidationError(f"header name {key!r} is not a valid HTTP header name")
            if key.lower() in _RESERVED or key.lower().startswith("x-pipetrail-"):
                raise ValidationError(f"header {key!r} is set by Pipetrail itself")
            if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
                raise ValidationError(f"header {key!r}: the value must be one line of text")
        return {"url": url, "headers": dict(headers)}, secret

    def describe(self, config: Mapping[str, Any]) -> str:
        return shown_url(str(config["url"]))

    def send(self, config: Mapping[str, Any], secret: str | None, event_text: str,
             ctx: SendContext) -> None:
        if not secret:
            raise DeliveryError("NO_PERMISSIONS", "the webhook has no signing secret",
                                retriable=False)
        body = event_text.encode()
        timestamp = str(int(time.time()))
        headers = {
            **config.get("headers", {}),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            "X-Pipetrail-Event-Id": ctx.event_id,
            "X-Pipetrail-Delivery-Id": ctx.delivery_id,
            "X-Pipetrail-Attempt": str(ctx.attempt),
        }
        post(str(config["url"]), body, headers, ctx, f"webhook {self.describe(config)}")


WEBHOOK = Webhook()
