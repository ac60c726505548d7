"""The two store backends the suite runs against.

PostgreSQL tests use the server named by ``PIPETRAIL_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), each test in a fresh schema. Without a
reachable server they skip, unless ``PIPETRAIL_REQUIRE_POSTGRES=1`` (as in CI), where
they fail instead.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("PIPETRAIL_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def postgres_available() -> str | None:
    """None when the server answers, else the reason it cannot be used."""
    parts = urlsplit(postgres_url())
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2).close()
    except OSError as exc:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} is not reachable ({exc})"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'pipetrail[postgres]')"
    return None


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("PIPETRAIL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but unusable: {reason}")
    pytest.skip(reason)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose search_path is a new, empty schema; dropped afterwards."""
    import psycopg

    require_postgres()
    base = postgres_url()
    schema = "pt_" + secrets.token_hex(6)
    dsn = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
