"""What every part of the store shares: the engine and its transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError

from pipetrail.model.errors import StoreError, ValidationError

MAX_PAGE = 10_000


class StoreBase:
    """The engine, with write transactions (``BEGIN IMMEDIATE`` on SQLite) and reads."""

    def __init__(self, engine: Engine, trail_shard: str = "main") -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.trail_shard = trail_shard

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with (self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                  conn.begin()):
                yield conn
        except DataError as exc:
            raise ValidationError(f"the store refused a value: {short_error(exc)}") from None
        except DBAPIError as exc:
            raise StoreError(f"the store refused a write: {short_error(exc)}") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except DataError as exc:
            raise ValidationError(f"the store refused a value: {short_error(exc)}") from None
        except DBAPIError as exc:
            raise StoreError(f"the store could not be read: {short_error(exc)}") from None

    def ping(self) -> None:
        """Raise StoreError unless the database answers a query."""
        with self._read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def _insert_ignore(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()


def short_error(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
