"""Naming the SQL dataset behind a connection and a table or query (pandas, Polars).

Connections are told apart by duck typing, never by importing their library: a
SQLAlchemy engine or connection (``.url`` / ``.engine.url``), a database URL string, a
``sqlite3`` connection, a psycopg 3 connection (``.info``), or any other DB-API
connection (named after its module, location ``unknown``).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from pipetrail.sdk.datasets import (
    dialect_name,
    query_table,
    server_location,
    sql_uri,
    sqlite_location,
    url_location,
)

_IDENTIFIER = re.compile(r'^\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'
                         r'(?:\s*\.\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*))?\s*$')


def connection_location(con: Any) -> tuple[str, str]:
    """(dialect, location) of a connection, engine or database URL."""
    if isinstance(con, str):
        return url_location(con)
    url = getattr(con, "url", None)
    if url is None:
        url = getattr(getattr(con, "engine", None), "url", None)
    if url is not None and hasattr(url, "get_backend_name"):
        dialect = str(url.get_backend_name())
        if dialect == "sqlite":
            return dialect, sqlite_location(url.database)
        return dialect, server_location(url.host, url.port, url.database)
    if isinstance(url, str):
        return url_location(url)
    module = type(con).__module__.split(".", 1)[0]
    if module == "sqlite3":
        return "sqlite", sqlite_location(_sqlite_file(con))
    info = getattr(con, "info", None)
    if info is not None and hasattr(info, "dbname"):
        return dialect_name(module), server_location(
            getattr(info, "host", None), getattr(info, "port", None), info.dbname)
    return dialect_name(module), "unknown"


def _sqlite_file(con: Any) -> str | None:
    """The main database file of a ``sqlite3`` connection (PRAGMA database_list reads the
    connection's state and changes nothing)."""
    with contextlib.suppress(Exception):
        for _seq, name, path in con.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return str(path) or None
    return None


def table_uri(con: Any, table: str, schema: str | None = None) -> str:
    dialect, location = connection_location(con)
    return sql_uri(dialect, location, f"{schema}.{table}" if schema else table)


def is_table_name(sql: str) -> bool:
    return _IDENTIFIER.match(sql) is not None


def query_uri(con: Any, sql: Any) -> tuple[str, str | None]:
    """The dataset a query (or bare table name) reads, and the query text recorded with
    it: the one table of a simple SELECT, else the database."""
    dialect, location = connection_location(con)
    text = sql if isinstance(sql, str) else str(sql)
    if is_table_name(text):
        return sql_uri(dialect, location, text), None
    table = query_table(text)
    return sql_uri(dialect, location, table), text[:4096]
