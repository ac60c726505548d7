"""Delivery settings read from the environment of the process that delivers.

| variable | meaning | default |
|---|---|---|
| ``PIPETRAIL_SMTP_HOST`` | SMTP server for e-mail targets | ``localhost`` |
| ``PIPETRAIL_SMTP_PORT`` | its port | 587 with ``starttls``, 465 with ``tls``, else 25 |
| ``PIPETRAIL_SMTP_SECURITY`` | ``starttls``, ``tls`` (implicit TLS) or ``none`` | ``starttls`` |
| ``PIPETRAIL_SMTP_USER`` / ``PIPETRAIL_SMTP_PASSWORD`` | credentials (both or neither) | unset |
| ``PIPETRAIL_SMTP_FROM`` | the sender address | ``pipetrail@<host name>`` |
| ``PIPETRAIL_SMTP_CA_FILE`` | extra CA certificates (PEM) to trust for TLS | system CAs |
| ``PIPETRAIL_SMTP_TIMEOUT`` | seconds for one SMTP conversation | 10 |
| ``PIPETRAIL_NOTIFY_TIMEOUT`` | seconds a process that publishes events spends | 10 |
|  | delivering them itself before it exits (``pipetrail run`` …) | |

The password is only ever handed to the SMTP server: it is not stored, logged, put in
error messages, or passed to command targets.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pipetrail.model.errors import ConfigError

SMTP_SECURITY = ("starttls", "tls", "none")
DEFAULT_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_NOTIFY_TIMEOUT = 10.0
SECRET_VARIABLES = ("PIPETRAIL_SMTP_PASSWORD",)

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "pipetrail@localhost"
    ca_file: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class DeliverySettings:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT
    error: str | None = None
    """Why the environment could not be read (then e-mail cannot be sent)."""

    @classmethod
    def lenient(cls, environ: Mapping[str, str] | None = None) -> DeliverySettings:
        """As :meth:`from_env`, but a bad setting is kept as ``error`` instead of
        raised, so that a run is never kept from starting by its notifications."""
        try:
            return cls.from_env(environ)
        except ConfigError as exc:
            return cls(error=str(exc))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeliverySettings:
        env = os.environ if environ is None else environ
        security = (env.get("PIPETRAIL_SMTP_SECURITY") or "starttls").lower()
        if security not in SMTP_SECURITY:
            raise ConfigError(f"PIPETRAIL_SMTP_SECURITY must be one of "
                              f"{', '.join(SMTP_SECURITY)}, not {security!r}")
        user = env.get("PIPETRAIL_SMTP_USER") or None
        password = env.get("PIPETRAIL_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise ConfigError("set both PIPETRAIL_SMTP_USER and PIPETRAIL_SMTP_PASSWORD, "
                              "or neither")
        smtp = SmtpSettings(
            host=env.get("PIPETRAIL_SMTP_HOST") or "localhost",
            port=_number(env, "PIPETRAIL_SMTP_PORT", DEFAULT_SMTP_PORTS[security], int),
            security=security, user=user, password=password,
            sender=env.get("PIPETRAIL_SMTP_FROM") or f"pipetrail@{socket.gethostname()}",
            ca_file=env.get("PIPETRAIL_SMTP_CA_FILE") or None,
            timeout=_number(env, "PIPETRAIL_SMTP_TIMEOUT", 10.0, float),
        )
        notify = _number(env, "PIPETRAIL_NOTIFY_TIMEOUT", DEFAULT_NOTIFY_TIMEOUT, float)
        if notify < 0:
            raise ConfigError("PIPETRAIL_NOTIFY_TIMEOUT must not be negative")
        return cls(smtp=smtp, notify_timeout=notify)


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    text = env.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if value <= 0 and name != "PIPETRAIL_NOTIFY_TIMEOUT":
        raise ConfigError(f"{name} must be positive, not {text!r}")
    return value
