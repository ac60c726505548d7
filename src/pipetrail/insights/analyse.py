"""Assembling a failed run's insight: category, location, Spark action, root cause."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipetrail.insights.evidence import Evidence
from pipetrail.insights.frames import snippet
from pipetrail.insights.rules import Rule, classify
from pipetrail.model.clock import iso_from_ms, now_ms

MAX_MESSAGE_CHARS = 4000
# Findings of the run's event-log analysis named in the insight (all are in the run).
MAX_SPARK_FINDINGS = 5

SourceLookup = Callable[[str], "str | None"]


def analyse(evidence: Evidence, source: SourceLookup, rules: list[Rule] | None = None
            ) -> dict[str, Any]:
    """The insight of a failed run (JSON-ready, camelCase keys).

    ``source(path)`` returns the text of a file of the user's code (the stored script
    for the run's own script), or None.
    """
    finding = classify(evidence, rules)
    insight: dict[str, Any] = {
        "category": finding.category,
        "title": finding.title,
        "summary": finding.summary,
        "recommendation": finding.recommendation,
        "state": evidence.state.value,
        "generatedAt": iso_from_ms(now_ms()),
    }
    if finding.evidence:
        insight["evidence"] = finding.evidence[:MAX_MESSAGE_CHARS]
    if evidence.exception is not None:
        insight["exception"] = {
            "type": evidence.exception_type,
            "module": evidence.exception.get("module"),
            "message": evidence.message[:MAX_MESSAGE_CHARS],
        }
    frame = evidence.location
    if frame is not None:
        location: dict[str, Any] = frame.to_json()
        text = source(frame.file)
        if text is not None:
            location["snippet"] = snippet(text, frame.line)
            if location.get("code") is None and location["snippet"]:
                location["code"] = next((s["code"].strip() for s in location["snippet"]
                                         if s.get("failing")), None)
        insight["location"] = location
    action = evidence.spark_action
    if action is not None and action.get("name"):
        insight["sparkAction"] = {k: action.get(k) for k in
                                  ("name", "file", "line", "function", "failed", "error")
                                  if action.get(k) is not None}
    if evidence.cause.found:
        insight["rootCause"] = evidence.cause.to_json()
    if evidence.spark_findings:
        insight["sparkFindings"] = [
            {k: f.get(k) for k in ("heuristic", "severity", "title")}
            for f in evidence.spark_findings[:MAX_SPARK_FINDINGS]]
    return insight
