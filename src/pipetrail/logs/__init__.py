"""Log events: the filter-pattern and query languages, metric filters, and searching the store.

- ``filter_pattern``: CloudWatch Logs filter patterns (terms, ``%regex%``, JSON,
  space-delimited).
- ``metric_filter``: metric filters, turning matching events into metric datums.
- ``query``: the Logs-Insights-style query language.
- ``search``: FilterLogEvents and StartQuery over the store.
"""
