"""A Logs-Insights-style query language over log records.

``run_query(text, records)`` parses and runs a query such as::

    fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 20

See ``docs/log-languages.md`` for the commands, functions and limits.
"""

from pipetrail.logs.query.executor import (
    QueryLimits,
    QueryResult,
    QueryStatistics,
    execute,
    run_query,
)
from pipetrail.logs.query.parser import parse_query

__all__ = [
    "QueryLimits",
    "QueryResult",
    "QueryStatistics",
    "execute",
    "parse_query",
    "run_query",
]
