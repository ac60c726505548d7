"""Events told for people: a title, a line or two, and a few fields.

Slack messages and e-mails are written from this; webhooks and commands get the event
itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_TEXT = 2000


@dataclass
class Summary:
    title: str
    text: str
    severity: str = "INFO"  # INFO, WARN, ERROR, OK
    fields: list[tuple[str, str]] = field(default_factory=list)


def summarize(event: Mapping[str, Any]) -> Summary:
    detail = event.get("detail")
    detail = detail if isinstance(detail, Mapping) else {}
    kind = event.get("detail-type")
    if kind == "Job Run State Change":
        return _job_run(detail)
    if kind == "Alarm State Change":
        return _alarm(detail)
    if isinstance(kind, str) and kind.endswith(" via Trail"):
        return _trail(str(kind), detail)
    text = orjson.dumps(detail, option=orjson.OPT_INDENT_2).decode()
    return Summary(title=f"{kind} from {event.get('source')}", text=_cut(text))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _job_run(detail: Mapping[str, Any]) -> Summary:
    state = str(detail.get("state"))
    severity = {"ERROR": "ERROR", "WARN": "WARN"}.get(str(detail.get("severity")), "INFO")
    if state == "SUCCEEDED":
        severity = "OK"
    fields = [("Run", str(detail.get("jobRunId")))]
    if "executionTime" in detail:
        fields.append(("Execution time", f"{detail['executionTime']} s"))
    if "exitCode" in detail:
        fields.append(("Exit code", str(detail["exitCode"])))
    text = str(detail.get("message") or "")
    insights = detail.get("insights")
    if insights:
        text += "\n\nInsights: " + _insights_text(insights)
    return Summary(title=f"Job {detail.get('jobName')} {state}", text=_cut(text),
                   severity=severity, fields=fields)


def _insights_text(insights: Any) -> str:
    if isinstance(insights, Mapping):
        for key in ("summary", "rootCause", "message"):
            if isinstance(insights.get(key), str):
                return str(insights[key])
    return orjson.dumps(insights).decode()


def _alarm(detail: Mapping[str, Any]) -> Summary:
    state = _mapping(detail.get("state"))
    previous = _mapping(detail.get("previousState"))
    value = str(state.get("value"))
    severity = {"ALARM": "ERROR", "OK": "OK"}.get(value, "WARN")
    return Summary(
        title=f"{value}: \"{detail.get('alarmName')}\"",
        text=_cut(str(state.get("reason") or "")), severity=severity,
        fields=[("State", f"{previous.get('value')} → {value}"),
                ("Since", str(state.get("timestamp")))],
    )


def _trail(kind: str, detail: Mapping[str, Any]) -> Summary:
    identity = _mapping(detail.get("userIdentity"))
    who = identity.get("userName") or identity.get("principalId") or "unknown"
    error = detail.get("errorCode")
    text = f"{detail.get('eventSource')} {detail.get('eventName')} by {who}"
    if error:
        text += f" failed: {error}: {detail.get('errorMessage') or ''}".rstrip()
    fields = [("Event", str(detail.get("eventID"))), ("Time", str(detail.get("eventTime")))]
    if detail.get("dataset"):
        fields.append(("Dataset", str(detail["dataset"])))
    return Summary(title=f"{detail.get('eventName')} ({kind})", text=_cut(text),
                   severity="ERROR" if error else "INFO", fields=fields)
