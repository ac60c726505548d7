"""Failure rules: small functions from :class:`Evidence` to a :class:`Finding` or None.

:data:`RULES` is an ordered list; the first rule that matches names the failure's
category. Built-in rules are registered exactly as a user's own would be: insert a
function into the list (before the built-ins to take precedence)::

    from pipetrail.insights.rules import RULES, Finding

    def quota_exceeded(evidence):
        if evidence.search(r"QuotaExceeded"):
            return Finding("QUOTA_EXCEEDED", "API quota exceeded", "Ask for more quota ...")
        return None

    RULES.insert(0, quota_exceeded)

Each finding says what happened (``title``, ``summary``) and what to do
(``recommendation``), using the facts of the run: the line, the Spark action and
configuration, the path or host named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipetrail.insights.evidence import Evidence
from pipetrail.model.runs import RunState

# A stage is severely skewed when its longest task ran this many times its median
# (Glue's skewness metric reaches 1 at twice its factor of 5) and for at least this long.
SKEW_RATIO = 10.0
SKEW_MIN_TASK_MS = 1000


@dataclass(frozen=True)
class Finding:
    category: str
    title: str
    recommendation: str
    summary: str = ""
    evidence: str | None = None


Rule = Callable[[Evidence], Finding | None]


def _first_line(text: str | None, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:limit]


def _at(evidence: Evidence) -> str:
    where = evidence.where
    return f" at {where}" if where else ""


def _quoted_path(evidence: Evidence) -> str | None:
    for pattern in (r"\[Errno \d+\] [^:\n]+: '([^'\n]+)'",
                    r"Path does not exist: ([^\s]+?)\.?(?: SQLSTATE|\s|$)",
                    r"File ([^\s]+) does not exist",
                    r"java\.io\.FileNotFoundException: ([^\s(]+)",
                    r"Permission denied: (?:user=\S+, access=\S+, inode=)?\"?([^\s\"]+)"):
        match = evidence.search(pattern)
        if match is not None:
            return match[1].rstrip(".,;")
    return None


# -- the rules, most specific first ------------------------------------------------------


def data_skew(evidence: Evidence) -> Finding | None:
    """A timeout or resource failure in a Spark stage whose longest task ran far longer
    than its median (seen live through the REST API, in the job's final report, or in
    the run's event log)."""
    stages = evidence.skewed_stages()
    resource_failure = (evidence.state is RunState.TIMEOUT
                        or evidence.cause.exception_class == "java.lang.OutOfMemoryError"
                        or evidence.raised("MemoryError")
                        or (evidence.cause.task_attempts or 0) > 1
                        or evidence.search(r"No space left on device") is not None)
    if not resource_failure:
        return None
    severe = [s for s in stages if float(s.get("durationRatio") or 0) >= SKEW_RATIO
              and int(s.get("maxTaskMs") or 0) >= SKEW_MIN_TASK_MS]
    if not severe:
        return None
    stage = severe[0]
    records = ""
    if stage.get("maxRecords") is not None and int(stage.get("medianRecords") or 0) > 0:
        records = (f"; its largest task read {stage['maxRecords']:,} records against a "
                   f"median of {stage['medianRecords']:,}")
    what = "timed out" if evidence.state is RunState.TIMEOUT else "failed"
    summary = (f"The run {what} while stage {stage['stageId']} ({stage.get('name') or '?'}) "
               f"was severely skewed: its longest task ran {stage['maxTaskMs'] / 1000:.1f} s, "
               f"{stage['durationRatio']:g}x its median task "
               f"({stage['medianTaskMs'] / 1000:.2f} s){records}.")
    return Finding(
        "DATA_SKEW", "Severe data skew",
        "Spread the hot key(s) over more tasks: salt the skewed key before the join or "
        "aggregation (add a random suffix, aggregate twice), let Spark split skewed "
        "partitions (spark.sql.adaptive.enabled=true and "
        "spark.sql.adaptive.skewJoin.enabled=true), handle null or default keys "
        "separately, or repartition on a column with more distinct values"
        + (f" before {evidence.action_text}" if evidence.action_text else "") + ".",
        summary, f"stage {stage['stageId']}: max/median task time {stage['durationRatio']:g}")


def timeout(evidence: Evidence) -> Finding | None:
    if evidence.state is not RunState.TIMEOUT:
        return None
    limit = evidence.run.timeout
    frame = evidence.location
    doing = ""
    if frame is not None:
        doing = f" It was at line {frame.line} ({frame.function})"
        doing += f": {frame.code}" if frame.code else ""
        doing += "."
    action = (f" The last Spark action was {evidence.action_text}."
              if evidence.action_text else "")
    return Finding(
        "TIMEOUT", "Timeout",
        "If the job now legitimately takes longer (more input, see what changed), raise "
        "--timeout; otherwise find what it waited for at that line: a slow or hung "
        "source (network, database lock), an endless loop, or a stage stuck on one "
        "task. Compare its duration with the last successful run.",
        f"The run exceeded its timeout of {limit:g} s and was stopped.{doing}{action}"
        if limit else f"The run exceeded its timeout and was stopped.{doing}{action}",
        evidence.run.error_message)


def jvm_out_of_memory(evidence: Evidence) -> Finding | None:
    cause = evidence.cause
    if cause.exception_class != "java.lang.OutOfMemoryError":
        return None
    master = evidence.conf("spark.master", "") or ""
    local = master.startswith("local")
    driver_memory = evidence.conf("spark.driver.memory", "1g (default)")
    executor_memory = evidence.conf("spark.executor.memory", "1g (default)")
    partitions = evidence.conf("spark.sql.shuffle.partitions", "200 (default)")
    kind = cause.message or "heap space"
    if cause.in_task:
        where = (f"task {cause.task} of stage {cause.stage}" if cause.task else "a task")
        memory = (f"spark.driver.memory (now {driver_memory}; in local mode the executor "
                  "runs inside the driver JVM)" if local
                  else f"spark.executor.memory (now {executor_memory})")
        return Finding(
            "OUT_OF_MEMORY", "Executor out of memory",
            f"Give each task less to hold: raise the number of partitions "
            f"(spark.sql.shuffle.partitions, now {partitions}, or repartition() before the "
            f"heavy step), avoid building very large rows, arrays or strings, and avoid "
            f"collect_list/groupByKey over hot keys; or raise {memory}.",
            f"The executor JVM ran out of memory ({kind}) in {where}"
            + (f" during {evidence.action_text}" if evidence.action_text else "")
            + (". Spark stopped the JVM." if cause.jvm_gone else "."),
            f"java.lang.OutOfMemoryError: {kind}")
    return Finding(
        "OUT_OF_MEMORY", "Driver out of memory",
        f"Do not bring large results to the driver: replace collect()/toPandas() with a "
        f"write to storage, take(n) or limit(); broadcast only small tables; or raise "
        f"spark.driver.memory (now {driver_memory}) and spark.driver.maxResultSize.",
        f"The driver JVM ran out of memory ({kind})"
        + (f" during {evidence.action_text}" if evidence.action_text else "") + ".",
        f"java.lang.OutOfMemoryError: {kind}")


def python_memory_error(evidence: Evidence) -> Finding | None:
    in_worker = evidence.cause.python_exception == "MemoryError"
    if not (evidence.raised("MemoryError") or in_worker):
        return None
    if in_worker:
        return Finding(
            "PYTHON_MEMORY_ERROR", "Python worker out of memory",
            "Process fewer rows at once in the UDF (smaller Arrow batches: "
            "spark.sql.execution.arrow.maxRecordsPerBatch), avoid collecting a whole "
            "partition into a list, or raise spark.executor.pyspark.memory.",
            f"A Python worker raised MemoryError{_at(evidence)}.", "MemoryError")
    return Finding(
        "PYTHON_MEMORY_ERROR", "Python out of memory",
        "Process the data in chunks (pandas read_csv(chunksize=...), iterate instead of "
        "materialising lists), read only the needed columns (usecols=) with narrower "
        "dtypes (category, int32, float32), free intermediate frames (del), or run the "
        "job with a higher memory limit.",
        f"The Python process ran out of memory (MemoryError){_at(evidence)}.",
        f"MemoryError: {evidence.message}".rstrip(": "))


def disk_full(evidence: Evidence) -> Finding | None:
    match = evidence.search(r"No space left on device|\[Errno 28\]|ENOSPC|DISK_NO_SPACE")
    if match is None:
        return None
    path = _quoted_path(evidence)
    local_dir = evidence.conf("spark.local.dir")
    spark_hint = (f" For Spark shuffle and spill files, point spark.local.dir (now "
                  f"{local_dir or 'the system temp folder'}) at a larger volume."
                  if evidence.is_spark else "")
    return Finding(
        "DISK_FULL", "Disk full",
        "Free space on the volume it writes to, or write the output (and temporary "
        "files, TMPDIR) to a larger volume; compress the output (Parquet with snappy/zstd) "
        "and clean up old outputs." + spark_hint,
        f"The device ran out of space{' writing ' + path if path else ''}{_at(evidence)}.",
        _first_line(evidence.text[match.start():]))


def too_many_open_files(evidence: Evidence) -> Finding | None:
    match = evidence.search(r"Too many open files|\[Errno 24\]|EMFILE")
    if match is None:
        return None
    return Finding(
        "TOO_MANY_OPEN_FILES", "Too many open files",
        "Close files as soon as they are done (use 'with open(...)'), do not keep one "
        "handle per partition or per output file open at once (write fewer, larger "
        "files; coalesce() before writing), or raise the open-file limit (ulimit -n, "
        "LimitNOFILE= in a systemd unit).",
        f"The job reached its limit of open file descriptors{_at(evidence)}.",
        _first_line(evidence.text[match.start():]))


def module_not_found(evidence: Evidence) -> Finding | None:
    match = evidence.search(r"No module named '([^']+)'")
    if match is None or not (evidence.raised("ModuleNotFoundError", "ImportError")
                             or evidence.cause.python_exception is not None
                             or evidence.search(r"ModuleNotFoundError")):
        return None
    module = match[1]
    worker = evidence.cause.python_exception is not None
    python = (evidence.run.details.get("environment") or {}).get("executable")
    where = (f"in the Python workers' interpreter (PYSPARK_PYTHON{', ' + python if python else ''})"
             if worker else f"in the job's environment{' (' + python + ')' if python else ''}")
    return Finding(
        "MODULE_NOT_FOUND", "Missing Python module",
        f"Install the package that provides '{module.split('.')[0]}' {where} "
        f"(pip install ...), or fix the import name; pin it in the job's requirements.",
        f"The module '{module}' could not be imported{_at(evidence)}.",
        match[0])


def python_udf_error(evidence: Evidence) -> Finding | None:
    cause = evidence.cause
    if cause.python_exception is None or evidence.search(r"from the Python worker") is None:
        return None
    frame = evidence.location
    function = frame.function if frame is not None else "the UDF"
    action = (f", run by {evidence.action_text}" if evidence.action_text else "")
    return Finding(
        "PYTHON_UDF_ERROR", "Python UDF error",
        f"Fix {function}() for the input it failed on: guard against bad values (None, "
        f"empty or malformed strings) and return None instead of raising, or filter those "
        f"rows before the UDF; a built-in Spark function (try_cast, regexp_extract, "
        f"when) is faster and null-safe where one exists.",
        f"The Python UDF {function}() raised {cause.python_exception}: "
        f"{cause.python_message or ''}{_at(evidence)}{action}.",
        f"{cause.python_exception}: {cause.python_message or ''}".strip())


def task_failures_exceeded(evidence: Evidence) -> Finding | None:
    cause = evidence.cause
    if not cause.task_attempts or cause.task_attempts < 2:
        return None
    last = ": ".join(x for x in (cause.exception_class, cause.message) if x) or "unknown"
    last = last.rstrip(".")
    max_failures = evidence.conf("spark.task.maxFailures")
    local = re.match(r"local\[[^,\]]+,\s*(\d+)\]", evidence.conf("spark.master", "") or "")
    if local is not None:
        max_failures = f"{local[1]}, from the master {evidence.conf('spark.master')}"
    crash_hint = ""
    if "Python worker exited unexpectedly" in evidence.text:
        crash_hint = (" The Python worker process crashed (a native library, os._exit or "
                      "the kernel's OOM killer): set spark.python.worker.faulthandler."
                      "enabled=true to see its stack.")
    return Finding(
        "TASK_FAILURES_EXCEEDED", "Task failed too many times",
        "Fix the error every attempt hit (it is not transient if all attempts fail the "
        "same way)." + crash_hint + " Only for transient failures (lost executors, "
        f"fetch failures) raise spark.task.maxFailures (now {max_failures or '4 (default)'}"
        ").",
        f"Task {cause.task} of stage {cause.stage} failed {cause.task_attempts} times, "
        f"which aborted the job"
        + (f" during {evidence.action_text}" if evidence.action_text else "")
        + f". Last error: {last}.",
        f"Task {cause.task} in stage {cause.stage} failed {cause.task_attempts} times")


def missing_column_or_table(evidence: Evidence) -> Finding | None:
    error_class = evidence.cause.error_class or ""
    if not error_class.startswith(("UNRESOLVED_COLUMN", "TABLE_OR_VIEW_NOT_FOUND",
                                   "FIELD_NOT_FOUND", "UNRESOLVED_FIELD",
                                   "SCHEMA_NOT_FOUND", "COLUMN_NOT_FOUND")):
        return None
    name = evidence.search(r"name `([^`]+)` cannot be resolved|The table or view "
                           r"`?([^`\s]+(?:`\.`[^`\s]+)*)`? cannot be found")
    missing = next((g for g in (name.groups() if name else ()) if g), None)
    suggestion = evidence.search(r"Did you mean one of the following\? \[([^\]]*)\]")
    table = error_class.startswith(("TABLE_OR_VIEW", "SCHEMA_NOT_FOUND"))
    what = "table or view" if table else "column"
    advice = (f" Did you mean {suggestion[1]}?" if suggestion else "")
    return Finding(
        "MISSING_COLUMN_OR_TABLE", f"Missing {what}",
        (f"Check the name{' `' + missing + '`' if missing else ''} against the input's "
         f"actual schema (df.printSchema(), df.columns) — the input may have changed "
         f"upstream (see what changed).{advice}" if not table else
         f"Create or register the table{' ' + missing if missing else ''} before the "
         f"query (createOrReplaceTempView, the catalog/database name, the upstream job "
         f"that writes it)."),
        f"Spark could not resolve the {what}"
        f"{' `' + missing + '`' if missing else ''}{_at(evidence)} [{error_class}].",
        _first_line(evidence.message or evidence.cause.message))


def file_not_found(evidence: Evidence) -> Finding | None:
    if not (evidence.raised("FileNotFoundError") or evidence.cause.error_class == "PATH_NOT_FOUND"
            or evidence.cause.exception_class == "java.io.FileNotFoundException"
            or evidence.search(r"\[Errno 2\] No such file or directory") is not None):
        return None
    path = _quoted_path(evidence)
    return Finding(
        "FILE_NOT_FOUND", "File or path not found",
        "Check the path (and the arguments that build it: a date or partition that does "
        "not exist yet?), that the upstream job that writes it succeeded, and that the "
        "job runs in the expected working directory; build paths from the script's "
        "folder or an absolute base rather than the current directory.",
        f"{path or 'A path'} does not exist{_at(evidence)}.",
        _first_line(evidence.message or evidence.cause.message))


def permission_denied(evidence: Evidence) -> Finding | None:
    match = evidence.search(r"Permission denied|\[Errno 13\]|AccessControlException|"
                            r"AccessDenied|Access Denied|\[Errno 1\] Operation not permitted")
    if match is None and not evidence.raised("PermissionError"):
        return None
    path = _quoted_path(evidence)
    return Finding(
        "PERMISSION_DENIED", "Permission denied",
        f"Give the user that runs the job ({evidence.run.principal or 'the job user'}) the "
        f"access it needs{' to ' + path if path else ''} (owner, mode, ACL; for object "
        f"storage the bucket policy or role), or write to a location it owns.",
        f"Access to {path or 'a resource'} was denied{_at(evidence)}.",
        _first_line(evidence.text[match.start():]) if match else evidence.message)


def schema_mismatch(evidence: Evidence) -> Finding | None:
    error_class = evidence.cause.error_class or ""
    spark_cast = error_class.startswith(("CAST_INVALID_INPUT", "DATATYPE_MISMATCH",
                                         "INCOMPATIBLE_DATA", "CANNOT_PARSE",
                                         "CAST_OVERFLOW", "CANNOT_UP_CAST",
                                         "FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH",
                                         "UNSUPPORTED_DESERIALIZER"))
    python_cast = (evidence.raised("ValueError", "TypeError", "ArrowInvalid",
                                   "ArrowTypeError")
                   and evidence.search(r"invalid literal for|could not convert|"
                                       r"Unable to parse|cannot convert|Cannot cast|"
                                       r"Could not convert|invalid value|unsupported "
                                       r"operand type") is not None)
    if not (spark_cast or python_cast):
        return None
    value = evidence.search(r"The value '([^']*)' of the type|literal for \w+\(\) with "
                            r"base \d+: '([^']*)'|could not convert string to \w+: '([^']*)'")
    bad = next((g for g in (value.groups() if value else ()) if g is not None), None)
    return Finding(
        "SCHEMA_MISMATCH", "Schema or type mismatch",
        "Declare the input's schema instead of inferring it (schema= in Spark, dtype= in "
        "pandas), clean or reject malformed values before casting (try_cast in Spark SQL, "
        "pd.to_numeric(errors='coerce') in pandas), and check whether the input's format "
        "changed upstream (see what changed).",
        f"A value did not match the expected type{_at(evidence)}"
        + (f": '{bad}'" if bad is not None else "")
        + (f" [{error_class}]" if spark_cast else "") + ".",
        _first_line(evidence.message or evidence.cause.message))


def division_by_zero(evidence: Evidence) -> Finding | None:
    if not (evidence.raised("ZeroDivisionError") or evidence.cause.error_class == "DIVIDE_BY_ZERO"
            or evidence.cause.python_exception == "ZeroDivisionError"):
        return None
    spark = evidence.cause.error_class == "DIVIDE_BY_ZERO"
    return Finding(
        "DIVISION_BY_ZERO", "Division by zero",
        ("Guard the divisor: try_divide(a, b) or when(b != 0, a / b) returns NULL instead "
         "of failing; find the rows where it is 0 (they may be new in the input)."
         if spark else
         "Guard the divisor (if count: ... / max(count, 1)), or skip empty groups; find "
         "why it is 0 here (an empty input or filter result?)."),
        f"A division by zero{_at(evidence)}.",
        _first_line(evidence.message or evidence.cause.message))


def pandas_key_error(evidence: Evidence) -> Finding | None:
    if not (evidence.raised("KeyError") and evidence.frames_in("pandas")):
        return None
    key = evidence.message.strip()
    return Finding(
        "PANDAS_KEY_ERROR", "Missing column or key in a pandas DataFrame",
        f"Check that {key or 'the key'} exists before using it (print(df.columns)); the "
        f"input's header may have changed or have extra spaces or different case "
        f"(df.columns = df.columns.str.strip().str.lower()), or a previous step dropped "
        f"it; use df.get() or reindex() where it is optional.",
        f"pandas has no column or label {key}{_at(evidence)}.",
        f"KeyError: {key}")


def connection_refused(evidence: Evidence) -> Finding | None:
    match = evidence.search(r"Connection refused|\[Errno 111\]|ECONNREFUSED")
    if match is None and not evidence.raised("ConnectionRefusedError"):
        return None
    if evidence.cause.jvm_gone or evidence.frames_in("py4j"):
        return None  # the Spark driver JVM is gone: another rule says so
    address = evidence.search(r"(?:host|server at|connect to|to)\s+\"?([\w.\-]+)\"?"
                              r"(?:,? port |:)(\d{1,5})|\(([\w.\-]+), (\d{1,5})\)|"
                              r"([\w.\-]+):(\d{1,5})")
    target = None
    if address is not None:
        groups = [g for g in address.groups() if g]
        if len(groups) >= 2:
            target = f"{groups[0]}:{groups[1]}"
    return Finding(
        "CONNECTION_REFUSED", "Connection refused",
        f"Nothing accepted the connection{' at ' + target if target else ''}: check that "
        f"the service is running and reachable from this host, and the host and port in "
        f"the job's configuration; retry with back-off if it restarts often.",
        f"A connection{' to ' + target if target else ''} was refused{_at(evidence)}.",
        _first_line(evidence.text[match.start():]) if match else evidence.message)


def syntax_error(evidence: Evidence) -> Finding | None:
    if not evidence.raised("SyntaxError", "IndentationError", "TabError"):
        return None
    return Finding(
        "SYNTAX_ERROR", "Syntax error",
        "Fix the code at that line (python -m py_compile SCRIPT checks a script without "
        "running it); run a linter before deploying.",
        f"The script does not compile: {evidence.message}.",
        f"{evidence.exception_type}: {evidence.message}")


def spark_driver_stopped(evidence: Evidence) -> Finding | None:
    if not evidence.cause.jvm_gone or not evidence.is_spark:
        return None
    return Finding(
        "SPARK_DRIVER_STOPPED", "Spark driver stopped",
        "Look at the JVM's last lines in the error stream (an hs_err_pid file, a fatal "
        "error, the kernel's OOM killer in dmesg); give the driver more memory "
        "(spark.driver.memory) if it was killed, and do not stop the SparkContext while "
        "it is still in use.",
        "The Spark driver JVM stopped while the job still used it"
        + (f" (during {evidence.action_text})" if evidence.action_text else "") + ".",
        _first_line(evidence.message))


def interpreter_crash(evidence: Evidence) -> Finding | None:
    if evidence.exception is not None or evidence.state is not RunState.FAILED:
        return None
    code = evidence.run.exit_code or 0
    signal_text = (evidence.run.error_message or "") if code > 128 else ""
    if "SIGKILL" in signal_text:
        recommendation = ("SIGKILL usually comes from the kernel's out-of-memory killer "
                          "(see dmesg) or a container limit: reduce the job's memory use "
                          "or raise its limit.")
    elif signal_text:
        recommendation = ("A crash in native code (an extension module or a library it "
                          "loads): upgrade or pin that library, check it is built for this "
                          "platform, and look at the stack Pipetrail recorded.")
    else:
        recommendation = ("The process exited without a Python exception (os._exit(), "
                          "sys.exit() inside a library, or a child process's exit code): "
                          "look at the last lines of the error stream.")
    if signal_text:
        title, summary = "Python interpreter crashed", signal_text.removeprefix("the job ")
    else:
        title, summary = "Job exited without an exception", f"exited with code {code}"
    return Finding(
        "INTERPRETER_CRASH", title, recommendation,
        f"The job {summary}{_at(evidence)}.",
        evidence.error_lines[-1] if evidence.error_lines else None)


def unclassified(evidence: Evidence) -> Finding | None:
    what = (f"{evidence.exception_type}: {_first_line(evidence.message, 200)}"
            if evidence.exception else evidence.run.error_message or "the job failed")
    return Finding(
        "UNCLASSIFIED", "Unclassified failure",
        "No rule recognised this failure: read the traceback in /pipetrail/jobs/error and "
        "compare with the last successful run (pipetrail runs compare).",
        f"{what}{_at(evidence)}.", None)


RULES: list[Rule] = [
    data_skew,
    timeout,
    jvm_out_of_memory,
    python_memory_error,
    disk_full,
    too_many_open_files,
    module_not_found,
    python_udf_error,
    task_failures_exceeded,
    missing_column_or_table,
    file_not_found,
    permission_denied,
    schema_mismatch,
    division_by_zero,
    pandas_key_error,
    connection_refused,
    syntax_error,
    spark_driver_stopped,
    interpreter_crash,
]
# Used when no rule in RULES matches.
FALLBACK: Rule = unclassified


def classify(evidence: Evidence, rules: list[Rule] | None = None) -> Finding:
    """The first finding of ``rules`` (default :data:`RULES`), else the fallback's."""
    for rule in RULES if rules is None else rules:
        try:
            found = rule(evidence)
        except Exception:  # a broken rule is skipped, not fatal
            continue
        if found is not None:
            return found
    fallback = FALLBACK(evidence)
    assert fallback is not None
    return fallback


__all__ = ["FALLBACK", "RULES", "Finding", "Rule", "classify"]
