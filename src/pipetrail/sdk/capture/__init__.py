"""Automatic data-access capture inside a job: pandas, Polars and PySpark.

:func:`install` (called by the bootstrap when the job runs under ``pipetrail run``)
registers post-import hooks only; each library is wrapped when the job imports it, so
a job that never imports pandas never imports it because of Pipetrail.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from types import ModuleType

from pipetrail.sdk.channel import Channel
from pipetrail.sdk.imports import report_errors_to, when_imported

# module whose import triggers the hook → the capture module wrapping it
LIBRARIES = {
    "pandas": "pipetrail.sdk.capture.pandas",
    "polars": "pipetrail.sdk.capture.polars",
    "pyspark.sql": "pipetrail.sdk.capture.spark",
}


def _installer(capture_module: str) -> Callable[[ModuleType], None]:
    def install(module: ModuleType) -> None:
        importlib.import_module(capture_module).install(module)
    return install


def install(channel: Channel) -> None:
    """Wrap each library as the job imports it; a failure to wrap is logged through
    ``channel`` (as a warning of the ``pipetrail.sdk`` logger) and the job goes on."""

    def report(name: str, error: BaseException) -> None:
        channel.send({"t": "log", "ts": time.time_ns() // 1_000_000, "level": "WARNING",
                      "logger": "pipetrail.sdk",
                      "message": f"data capture for {name} is off: "
                                 f"{type(error).__name__}: {error}"})

    report_errors_to(report)
    for name, capture_module in LIBRARIES.items():
        when_imported(name, _installer(capture_module))
