"""Where events go: webhooks, Slack-compatible webhooks, e-mail, local commands."""

from pipetrail.events.targets.kind import DeliveryError, SendContext, TargetKind
from pipetrail.events.targets.registry import get_kind, kind_names, register
from pipetrail.events.targets.target import RetryPolicy, Target

__all__ = ["DeliveryError", "RetryPolicy", "SendContext", "Target", "TargetKind", "get_kind",
           "kind_names", "register"]
