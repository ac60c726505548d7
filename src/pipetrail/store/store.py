"""The storage interface. Everything above this package reads and writes through it.

:class:`Store` is composed of one part per kind of record (``runs.py``, ``logs.py``,
``log_groups.py``, ``metric_filters.py``, ``metrics.py``, ``audit.py``, ``alarms.py``,
``trail.py``, ``trail_retention.py``, ``events.py``, ``access.py``, ``ingest.py``,
``leases.py``), each a small class over the shared engine in ``base.py``.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from pipetrail.config import Settings
from pipetrail.model.errors import StoreError
from pipetrail.store.access import AccessStore
from pipetrail.store.alarms import AlarmsStore
from pipetrail.store.audit import AuditQuery, AuditStore
from pipetrail.store.base import short_error
from pipetrail.store.engine import make_engine, normalise_url, safe_url
from pipetrail.store.events import EventsStore
from pipetrail.store.ingest import IngestStore
from pipetrail.store.leases import LeaseStore
from pipetrail.store.log_groups import LogGroupsStore
from pipetrail.store.logs import LogsStore
from pipetrail.store.metric_filters import MetricFiltersStore
from pipetrail.store.metrics import MetricsStore
from pipetrail.store.migrate import ensure_schema
from pipetrail.store.runs import RunsStore
from pipetrail.store.trail import TrailStore
from pipetrail.store.trail_retention import TrailRetentionStore

__all__ = ["AuditQuery", "Store", "open_store"]


class Store(IngestStore, RunsStore, LogsStore, LogGroupsStore, MetricFiltersStore,
            MetricsStore, AuditStore, TrailStore, TrailRetentionStore, AlarmsStore,
            EventsStore, AccessStore, LeaseStore):
    """Durable state on SQLite or PostgreSQL. Thread-safe; share one per process."""


def open_store(settings: Settings) -> Store:
    """Open (and on first use create or upgrade) the store the settings name."""
    url = settings.effective_database_url
    if settings.database_url is None:
        settings.ensure_home()
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the store at {safe_url(normalise_url(url))}: {short_error(exc)}"
        ) from None
    return Store(engine, trail_shard=settings.trail_shard)
