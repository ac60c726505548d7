"""Spark: event-log analysis (``analyze``: REST-API figures, SQL datasets and findings;
see ``docs/spark.md``) and live monitoring of a PySpark job's application (``live``).

Names are loaded on first use, so the live monitor does not pull in the analysis.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SparkReport": "pipetrail.spark.analysis", "analyze": "pipetrail.spark.analysis",
    "Finding": "pipetrail.spark.findings", "Registry": "pipetrail.spark.findings",
    "default_registry": "pipetrail.spark.findings", "heuristic": "pipetrail.spark.findings",
    "DataAccess": "pipetrail.spark.sql",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pipetrail.spark' has no attribute {name!r}")
