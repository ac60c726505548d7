"""PySpark hooks inside a job: the Spark application and the call sites of its actions.

Installed by the bootstrap, but nothing happens (and PySpark is never imported by us)
until the job itself imports ``pyspark``. Then:

- when a ``SparkContext`` starts, a ``spark`` record reports the application id, the
  web UI address (the runner polls its REST API), the Spark version, the master and
  the configuration (values of secret-looking keys redacted as Spark redacts them);
- each Spark action (``collect``, ``count``, ``show``, ``toPandas``, ``write.parquet``,
  ``read.csv``, RDD actions …) sends a ``spark-action`` record with its name and the
  file and line in the job's own code that called it; an action that raises sends one
  more, with ``failed`` and the error's type;
- when the context stops, or the job exits with it still running, a ``spark-totals``
  record carries the application's final task, stage and I/O totals (read from the
  REST API, which is gone a moment later).

Standard library only; every hook swallows its own errors so the job never notices.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from pipetrail.sdk.channel import Channel
from pipetrail.sdk.imports import when_imported
from pipetrail.sdk.spark_status import fetch_totals

# Spark's own default for spark.redaction.regex.
REDACT = re.compile(r"(?i)secret|password|token|access[.]?key")
REDACTED = "*********(redacted)"

DATAFRAME_ACTIONS = ("collect", "count", "show", "toPandas", "take", "head", "first", "tail",
                     "foreach", "foreachPartition", "toLocalIterator", "toArrow", "isEmpty")
WRITER_ACTIONS = ("save", "saveAsTable", "insertInto", "parquet", "csv", "json", "orc",
                  "text", "jdbc", "xml")
WRITER_V2_ACTIONS = ("create", "replace", "createOrReplace", "append", "overwrite",
                     "overwritePartitions")
READER_ACTIONS = ("load", "table", "parquet", "csv", "json", "orc", "text", "jdbc", "xml")
RDD_ACTIONS = ("collect", "count", "reduce", "fold", "aggregate", "take", "first", "foreach",
               "foreachPartition", "saveAsTextFile", "saveAsPickleFile", "countByKey",
               "countByValue", "top", "takeOrdered", "sum", "mean", "max", "min", "isEmpty",
               "toLocalIterator", "collectAsMap")

# (module, class, record-name prefix, method names)
_TARGETS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("pyspark.sql.dataframe", "DataFrame", "", DATAFRAME_ACTIONS),
    ("pyspark.sql.classic.dataframe", "DataFrame", "", DATAFRAME_ACTIONS),
    ("pyspark.sql.readwriter", "DataFrameWriter", "write.", WRITER_ACTIONS),
    ("pyspark.sql.readwriter", "DataFrameWriterV2", "writeTo.", WRITER_V2_ACTIONS),
    ("pyspark.sql.readwriter", "DataFrameReader", "read.", READER_ACTIONS),
    ("pyspark.rdd", "RDD", "rdd.", RDD_ACTIONS),
    ("pyspark.core.rdd", "RDD", "rdd.", RDD_ACTIONS),
)
_CONTEXT_MODULES = ("pyspark.context", "pyspark.core.context")
_MARK = "__pipetrail_spark_hooks__"  # distinct from the data capture's mark


class SparkHooks:
    """The hooks of one job; see the module docstring."""

    def __init__(self, channel: Channel, script: str) -> None:
        self.channel = channel
        self.script = script
        self._library_dirs: tuple[str, ...] = ()
        self._local = threading.local()
        self._app: dict[str, Any] | None = None
        self._totals_sent = False

    def install(self) -> None:
        for module, cls, prefix, names in _TARGETS:
            when_imported(module, functools.partial(self._patch_class, cls=cls,
                                                    prefix=prefix, names=names))
        for module in _CONTEXT_MODULES:
            when_imported(module, self._patch_context)
        when_imported("pyspark", self._on_pyspark)

    # -- patching -------------------------------------------------------------------

    def _on_pyspark(self, module: ModuleType) -> None:
        dirs = {os.path.dirname(os.path.abspath(module.__file__ or ""))}
        py4j = sys.modules.get("py4j")
        if py4j is not None and getattr(py4j, "__file__", None):
            dirs.add(os.path.dirname(os.path.abspath(py4j.__file__ or "")))
        dirs.add(os.path.dirname(os.path.abspath(__file__)))
        self._library_dirs = tuple(d + os.sep for d in dirs)

    def _patch_class(self, module: ModuleType, cls: str, prefix: str,
                     names: Iterable[str]) -> None:
        target = getattr(module, cls, None)
        if not isinstance(target, type):
            return
        for name in names:
            method = target.__dict__.get(name)
            if callable(method) and not getattr(method, _MARK, False):
                setattr(target, name, self._wrap_action(method, prefix + name))

    def _patch_context(self, module: ModuleType) -> None:
        context: Any = getattr(module, "SparkContext", None)
        if not isinstance(context, type) or getattr(context.__dict__.get("__init__"), _MARK,
                                                    False):
            return
        init, stop = context.__dict__["__init__"], context.__dict__["stop"]
        hooks = self

        @functools.wraps(init)
        def __init__(sc: Any, *args: Any, **kwargs: Any) -> None:
            init(sc, *args, **kwargs)
            hooks._started(sc)

        @functools.wraps(stop)
        def stop_(sc: Any, *args: Any, **kwargs: Any) -> Any:
            hooks.send_totals()
            return stop(sc, *args, **kwargs)

        setattr(__init__, _MARK, True)
        setattr(stop_, _MARK, True)
        setattr(context, "__init__", __init__)  # noqa: B010
        setattr(context, "stop", stop_)  # noqa: B010

    def _wrap_action(self, method: Callable[..., Any], name: str) -> Callable[..., Any]:
        hooks = self
        short = name.rpartition(".")[2]

        @functools.wraps(method)
        def action(*args: Any, **kwargs: Any) -> Any:
            local = hooks._local
            if getattr(local, "depth", 0):
                return method(*args, **kwargs)
            local.depth = 1
            site = hooks._report_action(name)
            named = hooks._name_spark_job(short, site)
            try:
                return method(*args, **kwargs)
            except BaseException as exc:
                hooks._report_failure(name, site, exc)
                raise
            finally:
                local.depth = 0
                if named is not None:
                    hooks._unname_spark_job(named)

        setattr(action, _MARK, True)
        return action

    def _name_spark_job(self, short: str, site: dict[str, Any]) -> Any:
        """Name the Spark jobs of an action after the job's own line, as PySpark does
        for some actions (``collect at job.py:12``), and keep PySpark from naming them
        after this wrapper. Returns what :meth:`_unname_spark_job` needs, or None."""
        if not site:
            return None
        try:
            from pyspark import SparkContext
            from pyspark.traceback_utils import SCCallSiteSync

            active = SparkContext._active_spark_context
            jsc = getattr(active, "_jsc", None)
            if jsc is None or SCCallSiteSync._spark_stack_depth:
                return None
            jsc.setCallSite(f"{short} at {site['file']}:{site['line']}")
            SCCallSiteSync._spark_stack_depth += 1
            return jsc, SCCallSiteSync
        except Exception:
            return None

    @staticmethod
    def _unname_spark_job(named: Any) -> None:
        jsc, sync = named
        try:
            sync._spark_stack_depth -= 1
            if sync._spark_stack_depth == 0:
                jsc.setCallSite(None)
        except Exception:
            return

    # -- records ----------------------------------------------------------------------

    def _call_site(self) -> dict[str, Any]:
        frame = sys._getframe(2)
        library = self._library_dirs
        while frame is not None:
            filename = frame.f_code.co_filename
            if not (filename.startswith(library) or filename.startswith("<")):
                return {"file": filename, "line": frame.f_lineno,
                        "function": frame.f_code.co_name}
            frame = frame.f_back  # type: ignore[assignment]
        return {}

    def _report_action(self, name: str) -> dict[str, Any]:
        try:
            site = self._call_site()
            self.channel.send({"t": "spark-action", "ts": int(time.time() * 1000),
                               "name": name, **site})
            return site
        except Exception:
            return {}

    def _report_failure(self, name: str, site: dict[str, Any], exc: BaseException) -> None:
        try:
            self.channel.send({"t": "spark-action", "ts": int(time.time() * 1000),
                               "name": name, **site, "failed": True,
                               "error": type(exc).__qualname__})
        except Exception:
            return

    def _started(self, sc: Any) -> None:
        try:
            conf = {k: (REDACTED if REDACT.search(k) or REDACT.search(v) else v)
                    for k, v in sc.getConf().getAll()}
            self._app = {
                "appId": sc.applicationId, "uiWebUrl": sc.uiWebUrl, "version": sc.version,
                "master": sc.master, "appName": sc.appName,
                "startTime": sc.startTime, "conf": conf,
            }
            self.channel.send({"t": "spark", "ts": int(time.time() * 1000), **self._app})
            self._totals_sent = False
            atexit.register(self.send_totals)
        except Exception:
            return

    def send_totals(self) -> None:
        """Send the application's final totals once (the context is about to stop)."""
        app = self._app
        if app is None or self._totals_sent or not app.get("uiWebUrl"):
            return
        self._totals_sent = True
        try:
            totals = fetch_totals(str(app["uiWebUrl"]), str(app["appId"]), timeout=2.0)
        except Exception:
            return
        self.channel.send({"t": "spark-totals", "ts": int(time.time() * 1000),
                           "appId": app["appId"], **totals})


def install_spark_hooks(channel: Channel, script: str) -> SparkHooks:
    hooks = SparkHooks(channel, script)
    hooks.install()
    return hooks
