"""The standard noise filter: exactly which lines it drops, and that it keeps the rest.

Lines marked "real" were printed by PySpark 4.3.0 (local[2], Java 17) on this project's
development machine; the YARN and heartbeat lines follow Spark's and Hadoop's own
message formats."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.logs.noise import NoiseFilter

NOISE = NoiseFilter()

DROPPED = [
    # real
    ("WARNING: Using incubator modules: jdk.incubator.vector", "jvm-incubator-modules"),
    ("Using Spark's default log4j profile: org/apache/spark/log4j2-defaults.properties",
     "spark-log4j-banner"),
    ('Setting default log level to "WARN".', "spark-log-level-banner"),
    ("To adjust logging level use sc.setLogLevel(newLevel). For SparkR, use "
     "setLogLevel(newLevel).", "spark-log-level-banner"),
    ("26/11/25 10:00:36 WARN NativeCodeLoader: Unable to load native-hadoop library for your "
     "platform... using builtin-java classes where applicable", "hadoop-native-library"),
    ("26/11/25 10:00:46 DEBUG ExecutorMetricsPoller: stageTCMP: (0, 0) -> 2",
     "spark-heartbeat"),
    ("26/11/25 10:00:49 DEBUG ExecutorMetricsPoller: removing (0, 0) from stageTCMP",
     "spark-heartbeat"),
    # Spark and YARN formats
    ("24/03/01 12:00:00 INFO HeartbeatReceiver: Received heartbeat from executor 1",
     "spark-heartbeat"),
    ("2024-03-01 12:00:00,123 DEBUG [dispatcher-event-loop-1] HeartbeatReceiver: tick",
     "spark-heartbeat"),
    ("24/03/01 12:00:00 INFO Executor: Told to re-register on heartbeat",
     "heartbeat-message"),
    ("24/03/01 12:00:00 DEBUG org.apache.spark.executor.Executor: Sending heartbeat",
     "heartbeat-message"),
    ("24/03/01 12:00:01 INFO Client: Application report for application_1700000000000_0042 "
     "(state: RUNNING)", "yarn-application-report"),
    ("2024-03-01 12:00:01 INFO org.apache.spark.deploy.yarn.Client: Application report for "
     "application_1700000000000_0042 (state: ACCEPTED)", "yarn-application-report"),
    ("24/03/01 12:00:02 DEBUG AMRMClientImpl: Sending allocate request heartbeat",
     "yarn-am-heartbeat"),
]

KEPT = [
    "26/11/25 10:00:43 WARN Utils: Set SPARK_LOCAL_IP if you need to bind to another address",
    "26/11/25 10:00:46 INFO Executor: Running task 1.0 in stage 0.0 (TID 1)",
    "26/11/25 10:00:48 INFO DAGScheduler: Job 0 finished: sum at job.py:6, took 2.1 s",
    "24/03/01 12:00:00 WARN HeartbeatReceiver: Removing executor 1 with no recent heartbeats: "
    "120000 ms exceeds timeout 120000 ms",
    "24/03/01 12:00:00 WARN Executor: Issue communicating with driver in heartbeater",
    "24/03/01 12:00:00 ERROR Client: Application report for application_1_2 (state: FAILED) "
    "diagnostics: container killed",
    "24/03/01 12:00:01 INFO Client: Application report for application_1700000000000_0042 "
    "(state: FINISHED) final status: FAILED",
    "heartbeat sent to the scheduler",
    "INFO: heartbeat from the job itself",
    "udf print 2",
    "Traceback (most recent call last):",
    "",
    "Using Spark's default log4j profile",
]


@pytest.mark.parametrize("line, rule", DROPPED, ids=[d[1] + str(i) for i, d in enumerate(DROPPED)])
def test_known_noise_is_dropped(line: str, rule: str) -> None:
    assert NOISE.clean(line) is None
    assert NOISE.matching_rule(line) == rule


@pytest.mark.parametrize("line", KEPT)
def test_everything_else_is_kept_as_it_is(line: str) -> None:
    assert NOISE.clean(line) == line
    assert NOISE.matching_rule(line) is None


@pytest.mark.parametrize("line, cleaned", [
    ("[Stage 0:>                                                          (0 + 2) / 2]", None),
    ("\r[Stage 1:=====>        (12 + 4) / 200][Stage 2:>   (0 + 0) / 10]", None),
    ("\r" + " " * 80 + "\r", None),
    ("[Stage 0:>          (0 + 2) / 2]udf print 2", "udf print 2"),
    ("\r[Stage 3:======>   (3 + 1) / 4]\r" + " " * 80 + "\r26/11/25 10:00:48 INFO "
     "DAGScheduler: Job 3 finished", "26/11/25 10:00:48 INFO DAGScheduler: Job 3 finished"),
    ("\r" + " " * 80 + "\r26/11/25 10:00:49 DEBUG ExecutorMetricsPoller: removing (0, 0)", None),
    ("50%|#####     | 5/10 [00:01<00:01]\r60%|######    | 6/10", None),
    ("  indented\rline", "  indented\rline"),
])
def test_the_console_progress_bar_is_cut_out(line: str, cleaned: str | None) -> None:
    expected = line if cleaned is None and "%|" in line else cleaned
    assert NOISE.clean(line) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_the_filter_never_fails_and_only_drops_or_trims(text: str) -> None:
    cleaned = NOISE.clean(text)
    assert cleaned is None or len(cleaned) <= len(text)
