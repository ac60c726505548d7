"""The Spark/JVM root cause of a failure, read from Py4J and JVM traces.

A PySpark failure reaches the driver wrapped several times: ``Py4JJavaError: An error
occurred while calling o47.collectToPython`` around ``SparkException: Job aborted due to
stage failure: Task 0 in stage 0.0 failed 2 times, most recent failure: Lost task 0.1 …
(host executor driver): <the real error>`` around ``Caused by: …`` chains; an executor
that dies (out of memory) may leave only its log lines on stderr
(``ERROR Executor: Exception in task …`` followed by ``java.lang.OutOfMemoryError``).
:func:`root_cause` reads all of that text and returns the innermost meaningful error,
its Spark error class (``[CAST_INVALID_INPUT]``), the failing task and executor, and how
often the task was tried. It accepts any text and never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 2 * 1024 * 1024

_JAVA_EXCEPTION = re.compile(
    r"(?<![\w$.])((?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Failure))"
    r"(?::[ \t]?([^\n]*))?")
_ERROR_CLASS = re.compile(r"\[([A-Z][A-Z0-9_]{2,}(?:\.[A-Z0-9_]+)*)\]")
_TASK_FAILED = re.compile(
    r"Task (\d+) in stage ([\d.]+) failed (\d+) times?(?:, most recent failure: Lost task "
    r"([\d.]+) in stage ([\d.]+) \(TID (\d+)\)(?: \(([^)]*?) executor ([^)]+)\))?: )?")
_EXECUTOR_TASK = re.compile(r"Exception in task ([\d.]+) in stage ([\d.]+) \(TID (\d+)\)")
_LOST_TASK_EXECUTOR = re.compile(r"Lost task [\d.]+ in stage [\d.]+ \(TID \d+\) "
                                 r"\([^)]*? executor ([^)]+)\)")
_CAUSED_BY = re.compile(r"^\s*Caused by: (.*)$", re.MULTILINE)
_PYTHON_EXCEPTION_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration)): ?(.*)$")

# Wrappers that say that something failed, not what.
_WRAPPERS = (
    "py4j.protocol.Py4JJavaError",
    "java.util.concurrent.ExecutionException",
    "java.lang.reflect.InvocationTargetException",
    "org.apache.spark.SparkException: Job aborted",
    "org.apache.spark.SparkException: Job \\d+ cancelled",
    "org.apache.spark.SparkException: Exception thrown in awaitResult",
    "org.apache.spark.SparkException: Multiple failures in stage materialization",
)
_WRAPPER = re.compile("|".join(f"^{w}" for w in _WRAPPERS))
_JVM_GONE = re.compile(
    r"Answer from Java side is empty|Error while receiving|Py4JNetworkError|"
    r"SparkContext was shut down|Cannot call methods on a stopped SparkContext|"
    r"Error while sending or receiving|Connection reset by peer.*py4j")


@dataclass
class RootCause:
    exception_class: str | None = None
    message: str | None = None
    error_class: str | None = None
    caused_by: list[str] = field(default_factory=list)
    stage: str | None = None
    task: str | None = None
    tid: int | None = None
    executor: str | None = None
    task_attempts: int | None = None
    jvm_gone: bool = False
    in_task: bool = False
    python_exception: str | None = None
    python_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        body = {
            "exceptionClass": self.exception_class, "message": self.message,
            "errorClass": self.error_class, "causedBy": self.caused_by or None,
            "stage": self.stage, "task": self.task, "taskId": self.tid,
            "executor": self.executor, "taskAttempts": self.task_attempts,
            "inTask": self.in_task or None,
            "jvmStopped": self.jvm_gone or None,
            "pythonException": self.python_exception, "pythonMessage": self.python_message,
        }
        return {k: v for k, v in body.items() if v is not None}

    @property
    def found(self) -> bool:
        return any((self.exception_class, self.error_class, self.task_attempts,
                    self.jvm_gone, self.python_exception))


def _clean(message: str | None) -> str | None:
    if message is None:
        return None
    text = message.strip()
    return text[:2000] or None


def python_worker_exception(text: str) -> tuple[str, str] | None:
    """The exception (type, message) at the end of the first Python worker traceback
    printed inside ``text`` (a UDF's error, as Spark reports it)."""
    worker = text.find("from the Python worker")
    if worker < 0:
        return None
    start = text.find("Traceback (most recent call last):", worker)
    if start < 0:
        return None
    for line in text[start:].splitlines()[1:]:
        if line.startswith((" ", "\t")) or not line.strip():
            continue
        match = _PYTHON_EXCEPTION_LINE.match(line.strip())
        if match is not None:
            return match[1], match[2].strip()
        return None
    return None


def root_cause(*texts: str | None) -> RootCause:
    """The root cause found in ``texts`` (the exception message first, then stderr)."""
    text = "\n".join(t for t in texts if t)[-MAX_TEXT:]
    cause = RootCause()
    if not text:
        return cause
    error_class = _ERROR_CLASS.search(text)
    if error_class is not None:
        cause.error_class = error_class[1]
    cause.jvm_gone = _JVM_GONE.search(text) is not None
    oom = re.search(r"java\.lang\.OutOfMemoryError(?::[ \t]?([^\n]*))?", text)
    attempts = list(_TASK_FAILED.finditer(text))
    detailed = [m for m in attempts if m[4]]  # with the "most recent failure" detail
    failed = detailed[0] if detailed else (attempts[0] if attempts else None)
    if failed is not None:
        cause.task, cause.stage = failed[1], failed[2]
        cause.task_attempts = int(failed[3])
        cause.tid = int(failed[6]) if failed[6] else None
        cause.executor = failed[8]
    elif (task := _EXECUTOR_TASK.search(text)) is not None:
        cause.task, cause.stage, cause.tid = task[1], task[2], int(task[3])
    cause.in_task = cause.task is not None
    if cause.executor is None and (lost := _LOST_TASK_EXECUTOR.search(text)) is not None:
        cause.executor = lost[1]
    if oom is not None:
        cause.exception_class = "java.lang.OutOfMemoryError"
        cause.message = _clean(oom[1])
    elif failed is not None and failed.end() < len(text) and failed[4]:
        rest = text[failed.end():]
        first = _JAVA_EXCEPTION.match(rest)
        if first is not None:
            cause.exception_class, cause.message = first[1], _clean(first[2])
        else:
            cause.message = _clean(rest.splitlines()[0] if rest else None)
    else:
        for match in _JAVA_EXCEPTION.finditer(text):
            end = text.find("\n", match.start())
            line = text[match.start():end if end >= 0 else len(text)]
            if _WRAPPER.search(line) or match[1].startswith("py4j."):
                continue
            cause.exception_class, cause.message = match[1], _clean(match[2])
            break
    chain = [c.strip() for c in _CAUSED_BY.findall(text)]
    cause.caused_by = list(dict.fromkeys(c[:500] for c in chain if c))[:5]
    worker = python_worker_exception(text)
    if worker is not None:
        cause.python_exception, cause.python_message = worker[0], _clean(worker[1])
        if (cause.exception_class or "").endswith("PythonException"):
            cause.message = f"{worker[0]}: {worker[1]}".strip()
    return cause
