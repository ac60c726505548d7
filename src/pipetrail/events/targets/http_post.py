"""POSTing an event over HTTP(S) with httpx, and what a response means for retries.

2xx is delivered. 408, 429 and 5xx are retried; redirects are not followed and, like
other 4xx answers, go to the dead letters at once (the request will not get better by
repeating it). Timeouts and connection failures are retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pipetrail import __version__
from pipetrail.events.targets.kind import DeliveryError, SendContext
from pipetrail.model.errors import ValidationError

RETRIED_STATUSES = frozenset({408, 429})
USER_AGENT = f"pipetrail/{__version__}"


def check_url(url: object, what: str = "url") -> str:
    if not isinstance(url, str) or not url:
        raise ValidationError(f"a {what} is required")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValidationError(f"{what} is not a valid URL: {exc}") from None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError(f"{what} must not contain spaces or control characters")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(f"{what} {_shown(url)!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ValidationError(f"{what} {_shown(url)!r} has an invalid port") from None
    return url


def shown_url(url: str) -> str:
    """The URL without its query, fragment and credentials, for listings."""
    return _shown(url)


def _shown(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.netloc.rpartition("@")[2]  # without user:password
    return f"{parts.scheme}://{host}{parts.path}"


def post(url: str, body: bytes, headers: Mapping[str, str], ctx: SendContext,
         describe: str) -> None:
    """POST ``body``; raise DeliveryError unless the answer is 2xx. ``describe`` names
    the destination in errors (never the full URL, which may hold a secret)."""
    import httpx

    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    timeout = httpx.Timeout(ctx.timeout)
    try:
        if ctx.http is not None:
            response = ctx.http.post(url, content=body, headers=all_headers, timeout=timeout,
                                     follow_redirects=False)
        else:
            with httpx.Client() as client:
                response = client.post(url, content=body, headers=all_headers,
                                       timeout=timeout, follow_redirects=False)
    except httpx.TimeoutException:
        raise DeliveryError("TIMEOUT", f"{describe} did not answer within "
                                       f"{ctx.timeout:g} s") from None
    except httpx.InvalidURL:
        raise DeliveryError("NO_RESOURCE", f"{describe}: invalid URL",
                            retriable=False) from None
    except httpx.TransportError as exc:
        raise DeliveryError("CONNECTION_ERROR",
                            f"{describe}: {type(exc).__name__}: {exc}") from None
    status = response.status_code
    if 200 <= status < 300:
        return
    excerpt = response.text[:200].strip()
    message = f"{describe} answered HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if 300 <= status < 400:
        raise DeliveryError(f"HTTP_{status}", message + " (redirects are not followed)",
                            retriable=False)
    retriable = status >= 500 or status in RETRIED_STATUSES
    raise DeliveryError(f"HTTP_{status}", message, retriable=retriable)
