"""Apply schema migrations on first use, safely when several processes start at once.

The fast path reads ``alembic_version`` and returns when it is at the head, without
importing Alembic. Otherwise one process at a time (a file lock beside a SQLite
database, an advisory lock on PostgreSQL) re-checks and upgrades.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from pipetrail.store.schema import SCHEMA_HEAD

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_lock key: "pipetrail" folded into a 64-bit integer.
PG_LOCK_KEY = 0x5049504554524C


def current_version(conn: Connection) -> str | None:
    try:
        with conn.begin():
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def ensure_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        if current_version(conn) == SCHEMA_HEAD:
            return
    with _migration_lock(engine), engine.connect() as conn:
        if current_version(conn) == SCHEMA_HEAD:
            return
        upgrade(conn)


def upgrade(conn: Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, target)
    if conn.in_transaction():
        conn.commit()


def alembic_head() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        lock_path = Path(database + ".migrate.lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as lock_conn:
        lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        lock_conn.commit()
        try:
            yield
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            lock_conn.commit()
