"""Spark event-log analysis: REST-API figures, SQL datasets and findings.

``analyze(path)`` reads a Spark event log (a file or a rolling folder, any codec Spark
writes) and returns a :class:`SparkReport`; see ``docs/spark.md``.
"""

from pipetrail.spark.analysis import SparkReport, analyze
from pipetrail.spark.findings import Finding, Registry, default_registry, heuristic
from pipetrail.spark.sql import DataAccess

__all__ = ["DataAccess", "Finding", "Registry", "SparkReport", "analyze", "default_registry",
           "heuristic"]
