"""The Spark/JVM root cause, read from what real PySpark 4.3 failures print.

The texts in ``data/`` are the stderr of real local-mode PySpark jobs (long JVM stack
traces shortened to their first frames); the same failures run end to end, under the
runner, in ``test_spark_failures.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.insights.frames import frames_from_fault_text, frames_from_traceback_text
from pipetrail.insights.jvm import python_worker_exception, root_cause

DATA = Path(__file__).parent / "data"


def text(name: str) -> str:
    return (DATA / f"{name}.stderr").read_text()


def test_udf_error_names_the_python_exception_of_the_worker() -> None:
    cause = root_cause(text("udf_error"))
    assert cause.exception_class == "org.apache.spark.api.python.PythonException"
    assert cause.python_exception == "ValueError"
    assert cause.python_message == "invalid literal for int() with base 10: 'x0'"
    assert cause.message == "ValueError: invalid literal for int() with base 10: 'x0'"
    assert (cause.stage, cause.task, cause.task_attempts) == ("0.0", "0", 1)
    assert cause.error_class == "PYTHON_EXCEPTION"


def test_missing_column_keeps_the_error_class() -> None:
    cause = root_cause(text("missing_column"))
    assert cause.error_class == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert cause.exception_class == "org.apache.spark.sql.AnalysisException"
    assert cause.task is None and not cause.in_task


def test_cast_and_division_errors_come_from_the_task() -> None:
    cast = root_cause(text("cast_invalid_input"))
    assert cast.error_class == "CAST_INVALID_INPUT"
    assert cast.exception_class == "org.apache.spark.SparkNumberFormatException"
    assert cast.in_task and cast.executor == "driver"
    divide = root_cause(text("divide_by_zero"))
    assert divide.error_class == "DIVIDE_BY_ZERO"
    assert divide.exception_class == "org.apache.spark.SparkArithmeticException"


def test_retried_task_failure_reports_attempts_and_the_last_error() -> None:
    cause = root_cause(text("worker_crash_retried"))
    assert cause.task_attempts == 2 and cause.task == "0" and cause.stage == "0.0"
    assert cause.tid == 1
    assert cause.exception_class == "org.apache.spark.SparkException"
    assert cause.message is not None and cause.message.startswith(
        "Python worker exited unexpectedly")
    assert "java.io.EOFException" in cause.caused_by


def test_executor_oom_is_found_in_the_log_lines_after_the_jvm_stopped() -> None:
    stderr = text("executor_oom")
    # The driver's own exception only says the context was shut down ...
    assert "SparkContext was shut down" in stderr
    cause = root_cause(stderr)
    # ... the executor's log lines say why.
    assert cause.exception_class == "java.lang.OutOfMemoryError"
    assert cause.message == "Java heap space"
    assert cause.in_task and cause.jvm_gone


def test_missing_path() -> None:
    cause = root_cause(text("path_not_found"))
    assert cause.error_class == "PATH_NOT_FOUND"
    assert cause.exception_class == "java.io.FileNotFoundException"


def test_a_udf_traceback_gives_the_udf_line() -> None:
    frames = frames_from_traceback_text(text("udf_error"))
    assert any(f.function == "parse" and f.line == 6 for f in frames)
    assert python_worker_exception(text("udf_error")) == (
        "ValueError", "invalid literal for int() with base 10: 'x0'")


def test_faulthandler_stack_prefers_the_thread_in_user_code() -> None:
    lines = [
        "Thread 0x00007f1 (most recent call first):",
        '  File "/usr/lib/python3.11/threading.py", line 320 in wait',
        "",
        "Current thread 0x00007f2 (most recent call first):",
        '  File "/work/jobs/etl.py", line 12 in load',
        '  File "/work/jobs/etl.py", line 30 in <module>',
        '  File "<frozen runpy>", line 88 in _run_code',
    ]
    frames = frames_from_fault_text(lines)
    assert [(f.line, f.function) for f in frames] == [(88, "_run_code"), (30, "<module>"),
                                                      (12, "load")]


@pytest.mark.parametrize("garbage", ["", "\n\n", "Caused by: ", "Task 1 in stage failed",
                                     "[ABC] x" * 3, "java.lang.OutOfMemoryError"])
def test_odd_text_is_handled(garbage: str) -> None:
    root_cause(garbage)


PIECES = st.sampled_from([*"abcXYZ.:[]()_ \n\t0123456789",
    "Caused by: ", "java.lang.", "Exception", "Error", "Task ", " in stage ", " failed ",
    " times", ", most recent failure: Lost task ", "(TID ", "executor ", "OutOfMemoryError",
    "from the Python worker", "Traceback (most recent call last):", '  File "', '", line ',
    ", in ", "Current thread 0x1", " (most recent call first):", "PythonException"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=120).map("".join) | st.text(max_size=300))
def test_never_crashes_on_any_text(sample: str) -> None:
    cause = root_cause(sample, sample)
    cause.to_json()
    frames_from_traceback_text(sample)
    frames_from_fault_text(sample.splitlines())
