"""The "standard" log filter: known Spark, YARN and JVM noise, dropped before storage.

Glue's standard continuous-logging filter drops "non-useful Apache Spark driver/executor
and Apache Hadoop YARN heartbeat log messages" without saying which; this is our own,
exact list (``PIPETRAIL_LOG_FILTER=standard`` or ``pipetrail run --quiet-logs``). Each
rule names what it drops; ``docs/logs.md`` has the same table. Nothing at level WARN or
above is dropped, except two start-up warnings every local Spark prints.

Spark's console progress bar (``[Stage 3:=====>   (12 + 4) / 200]``, redrawn with
carriage returns) is cut out of the line it shares with other output; a line left empty
by that is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A log4j line as Spark, Glue and YARN write it by default:
# "26/11/25 10:00:46 INFO BlockManager: message" (also with 4-digit years, ISO dates,
# and milliseconds).
_THREAD = r"(?:\[[^\]]{1,100}\]\s+)?"
_LOG4J = (r"^(?:\d{2,4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,3})?\s+)?"
          + _THREAD)
# After the level, the thread when the layout puts it there ("%p [%t] %c{1}").
_LEVEL_THREAD = r"(?:\s+\[[^\]]{1,100}\])?"
_QUIET_LEVEL = r"(?:TRACE|DEBUG|INFO)" + _LEVEL_THREAD


@dataclass(frozen=True)
class NoiseRule:
    name: str
    pattern: re.Pattern[str]
    description: str
    # The rule can only match a line holding one of these (lower-case) texts.
    needles: tuple[str, ...] = ()


STANDARD_RULES: tuple[NoiseRule, ...] = (
    NoiseRule(
        "spark-heartbeat",
        re.compile(_LOG4J + _QUIET_LEVEL
                   + r"\s+\S*(?:HeartbeatReceiver|Heartbeater|ExecutorMetricsPoller):"),
        "TRACE/DEBUG/INFO lines of Spark's heartbeat machinery: the loggers "
        "HeartbeatReceiver, Heartbeater and ExecutorMetricsPoller",
        ("heartbeat", "executormetricspoller")),
    NoiseRule(
        "yarn-application-report",
        re.compile(_LOG4J + r"INFO" + _LEVEL_THREAD
                   + r"\s+\S*Client: Application report for application_\d+_\d+ "
                   r"\(state: [A-Z_]+\)\s*$"),
        "YARN's once-a-second client heartbeat: INFO Client: Application report for "
        "application_… (state: RUNNING)",
        ("application report",)),
    NoiseRule(
        "yarn-am-heartbeat",
        re.compile(_LOG4J + _QUIET_LEVEL
                   + r"\s+\S*(?:AMRMClientImpl|AMRMClientAsyncImpl|ApplicationMaster):"
                   r".*(?i:heartbeat|allocate|progress)"),
        "TRACE/DEBUG/INFO heartbeats of a YARN application master "
        "(AMRMClient allocate/progress calls)",
        ("amrmclient", "applicationmaster")),
    NoiseRule(
        "heartbeat-message",
        re.compile(_LOG4J + _QUIET_LEVEL + r"\s+[\w$.]{1,200}:.*(?i:heartbeat)"),
        "any other TRACE/DEBUG/INFO log4j line whose message mentions a heartbeat "
        "(e.g. Executor: Told to re-register on heartbeat)",
        ("heartbeat",)),
    NoiseRule(
        "spark-log4j-banner",
        re.compile(r"^Using Spark's default log4j profile: \S+\s*$"),
        "Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties",
        ("default log4j profile",)),
    NoiseRule(
        "spark-log-level-banner",
        re.compile(r"^(?:Setting default log level to \"[A-Z]+\"\.|To adjust logging level "
                   r"use sc\.setLogLevel\(newLevel\)\..*)\s*$"),
        'Setting default log level to "WARN". / To adjust logging level use '
        "sc.setLogLevel(newLevel). For SparkR, use setLogLevel(newLevel).",
        ("default log level", "adjust logging level")),
    NoiseRule(
        "hadoop-native-library",
        re.compile(_LOG4J + r"WARN" + _LEVEL_THREAD
                   + r"\s+\S*NativeCodeLoader: Unable to load native-hadoop library "
                   r"for your platform"),
        "WARN NativeCodeLoader: Unable to load native-hadoop library for your platform… "
        "(printed by every Spark without Hadoop's native libraries)",
        ("native-hadoop",)),
    NoiseRule(
        "jvm-incubator-modules",
        re.compile(r"^WARNING: Using incubator modules: [\w.,\s]+$"),
        "WARNING: Using incubator modules: jdk.incubator.vector (the JVM, at Spark's start)",
        ("incubator modules",)),
)

# One redraw of Spark's ConsoleProgressBar: "[Stage 0:>   (0 + 2) / 2]" (several stages
# may stand side by side).
PROGRESS_BAR = re.compile(r"\s*\[Stage \d+:[=> ]*\(\d+(?: \+ \d+)?\) / \d+\]")


class NoiseFilter:
    """``clean(line)``: the line without progress-bar redraws, or None when the whole
    line is noise."""

    def __init__(self, rules: tuple[NoiseRule, ...] = STANDARD_RULES) -> None:
        self.rules = rules
        self._always = tuple(rule for rule in rules if not rule.needles)
        needles = sorted({needle for rule in rules for needle in rule.needles})
        self._needles = re.compile("|".join(re.escape(needle) for needle in needles))

    def clean(self, line: str) -> str | None:
        if "\r" in line or line.startswith("[Stage "):
            line = self._strip_progress(line)
            if not line:
                return None
        if self.matching_rule(line) is not None:
            return None
        return line

    def matching_rule(self, line: str) -> str | None:
        """The name of the rule that drops ``line``, if any (for tests and docs)."""
        lowered = line.lower()
        candidates = self.rules if self._needles.search(lowered) else self._always
        for rule in candidates:
            if rule.needles and not any(needle in lowered for needle in rule.needles):
                continue
            if rule.pattern.match(line) is not None:
                return rule.name
        return None

    @staticmethod
    def _strip_progress(line: str) -> str:
        segments = line.split("\r")
        kept = []
        for segment in segments:
            rest = _strip_bars(segment)
            if rest.strip():
                kept.append(rest)
        return "\r".join(kept)


def _strip_bars(segment: str) -> str:
    """A carriage-return segment without the progress bars at its start (where Spark
    draws them); empty when nothing but bars and blanks is left."""
    position = 0
    while (match := PROGRESS_BAR.match(segment, position)) is not None:
        position = match.end()
    rest = segment[position:]
    return rest if rest.strip() else ""
