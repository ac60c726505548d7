"""A target: a named destination (webhook, Slack, e-mail, command) with its retry policy.

Rules name targets, and so can alarm actions (``arn:pipetrail:events:<workspace>:
target/<name>``). Every target has, besides its kind's own settings:

* ``timeoutSeconds``: how long one attempt may take (0 < t ≤ 60; default per kind:
  webhook and Slack 5, e-mail 10, command 30);
* ``retryPolicy``: EventBridge's ``MaximumRetryAttempts`` (0-185, default 185) and
  ``MaximumEventAgeInSeconds`` (60-86,400, default 86,400): after the first attempt, at
  most that many retries, and none once the delivery has waited that long; then the
  delivery becomes a dead letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipetrail.events.rules import check_name
from pipetrail.events.targets.kind import TargetKind
from pipetrail.events.targets.registry import get_kind
from pipetrail.model.arn import target_arn
from pipetrail.model.errors import ValidationError

MAX_TIMEOUT = 60.0
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE = 60
MAX_EVENT_AGE = 86_400
COMMON_KEYS = ("timeoutSeconds", "retryPolicy")


def masked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with header values hidden."""
    data = dict(settings)
    if isinstance(data.get("headers"), Mapping):
        data["headers"] = dict.fromkeys(data["headers"], "(hidden)")
    return data


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = MAX_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = MAX_EVENT_AGE

    @classmethod
    def from_json(cls, data: object) -> RetryPolicy:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValidationError("retryPolicy must be an object")
        extra = set(data) - {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}
        if extra:
            raise ValidationError(f"retryPolicy has no {', '.join(sorted(extra))}; use "
                                  "MaximumRetryAttempts and MaximumEventAgeInSeconds")
        attempts = data.get("MaximumRetryAttempts", MAX_RETRY_ATTEMPTS)
        age = data.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not (
                0 <= attempts <= MAX_RETRY_ATTEMPTS):
            raise ValidationError(f"MaximumRetryAttempts must be a whole number from 0 to "
                                  f"{MAX_RETRY_ATTEMPTS}, got {attempts!r}")
        if isinstance(age, bool) or not isinstance(age, int) or not (
                MIN_EVENT_AGE <= age <= MAX_EVENT_AGE):
            raise ValidationError(f"MaximumEventAgeInSeconds must be a whole number from "
                                  f"{MIN_EVENT_AGE} to {MAX_EVENT_AGE}, got {age!r}")
        return cls(attempts, age)

    def to_json(self) -> dict[str, int]:
        return {"MaximumRetryAttempts": self.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": self.maximum_event_age_seconds}


@dataclass
class Target:
    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    """The kind's own settings (url, headers, to, command …), without secrets."""
    secret: str | None = field(default=None, repr=False)
    timeout: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def target_kind(self) -> TargetKind:
        return get_kind(self.kind)

    @property
    def effective_timeout(self) -> float:
        return self.timeout if self.timeout is not None else self.target_kind.default_timeout

    def validate(self) -> None:
        check_name(self.name, "target")
        kind = self.target_kind
        if self.timeout is not None and (
                isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float)
                or not 0 < self.timeout <= MAX_TIMEOUT):
            raise ValidationError(f"timeoutSeconds must be more than 0 and at most "
                                  f"{MAX_TIMEOUT:g}, got {self.timeout!r}")
        self.settings, self.secret = kind.check(self.settings, self.secret)

    # -- stored form ------------------------------------------------------------------------

    def config_json(self) -> str:
        data: dict[str, Any] = dict(self.settings)
        if self.timeout is not None:
            data["timeoutSeconds"] = self.timeout
        data["retryPolicy"] = self.retry.to_json()
        return orjson.dumps(data).decode()

    @classmethod
    def from_stored(cls, name: str, kind: str, config: str, secret: str | None) -> Target:
        data = orjson.loads(config)
        timeout = data.pop("timeoutSeconds", None)
        retry = RetryPolicy.from_json(data.pop("retryPolicy", None))
        return cls(name=name, kind=kind, settings=data, secret=secret, timeout=timeout,
                   retry=retry)

    @classmethod
    def from_request(cls, name: str, kind: str, config: Mapping[str, Any],
                     secret: str | None) -> Target:
        """A target from user input: the kind's settings plus the common keys."""
        if not isinstance(config, Mapping):
            raise ValidationError("a target's configuration must be an object")
        data = dict(config)
        timeout = data.pop("timeoutSeconds", None)
        retry = RetryPolicy.from_json(data.pop("retryPolicy", None))
        target = cls(name=name, kind=kind, settings=data, secret=secret, timeout=timeout,
                     retry=retry)
        target.validate()
        return target

    def to_json(self, workspace: str) -> dict[str, Any]:
        """The target as shown to people and programs: never its secret, nor the values
        of extra headers (which often carry tokens)."""
        data: dict[str, Any] = {
            "name": self.name, "arn": target_arn(workspace, self.name), "type": self.kind,
            "description": self.target_kind.describe(self.settings),
            **masked(self.settings),
            "timeoutSeconds": self.effective_timeout,
            "retryPolicy": self.retry.to_json(),
        }
        label = self.target_kind.secret_label
        if label is not None:
            data["secret"] = f"({label} set)" if self.secret else "(none)"
        return data
