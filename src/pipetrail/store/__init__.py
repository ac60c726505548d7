"""Durable state behind one interface (:class:`Store`), on SQLite or PostgreSQL."""

from pipetrail.store.store import Store, open_store

__all__ = ["Store", "open_store"]
