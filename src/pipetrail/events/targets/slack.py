"""Slack-compatible incoming webhooks: ``{"text": ..., "blocks": [...]}``.

The webhook URL is the secret (whoever has it can post to the channel): it is stored as
the target's secret and never shown. Mattermost, Rocket.Chat and others that accept
Slack's payload work too (they read ``text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from pipetrail.events.targets.http_post import check_url, post, shown_url
from pipetrail.events.targets.kind import DeliveryError, SendContext
from pipetrail.events.targets.render import summarize
from pipetrail.model.errors import ValidationError

EMOJI = {"ERROR": ":rotating_light:", "WARN": ":warning:", "OK": ":white_check_mark:",
         "INFO": ":information_source:"}
MAX_FIELDS = 10


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: &, < and > only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    """The message for one event."""
    summary = summarize(event)
    emoji = EMOJI.get(summary.severity, "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary.title[:150],
                                    "emoji": True}},
    ]
    if summary.text:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": escape(summary.text)[:3000]}})
    if summary.fields:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{escape(name)}*\n{escape(value)}"[:2000]}
            for name, value in summary.fields[:MAX_FIELDS]]})
    context = " · ".join(str(event.get(k)) for k in ("source", "detail-type", "time", "id"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": escape(context)}]})
    first_line = summary.text.splitlines()[0] if summary.text else ""
    text = f"{emoji} {summary.title}" + (f": {first_line}" if first_line else "")
    return {"text": escape(text.strip()), "blocks": blocks}


class Slack:
    name = "slack"
    secret_label: str | None = "webhook URL"
    default_timeout = 5.0

    def new_secret(self) -> str | None:
        return None

    def check(self, config: Mapping[str, Any], secret: str | None
              ) -> tuple[dict[str, Any], str | None]:
        extra = set(config) - {"url"}
        if extra:
            raise ValidationError(f"a Slack target takes no {', '.join(sorted(extra))}")
        url = config.get("url") or secret
        return {}, check_url(url, "Slack webhook URL")

    def describe(self, config: Mapping[str, Any]) -> str:
        return "Slack incoming webhook"

    def send(self, config: Mapping[str, Any], secret: str | None, event_text: str,
             ctx: SendContext) -> None:
        if not secret:
            raise DeliveryError("NO_RESOURCE", "the Slack target has no webhook URL",
                                retriable=False)
        body = orjson.dumps(slack_payload(orjson.loads(event_text)))
        host = shown_url(secret).partition("://")[2].partition("/")[0] or "(unknown host)"
        post(secret, body, {}, ctx, f"Slack webhook at {host}")


SLACK = Slack()
