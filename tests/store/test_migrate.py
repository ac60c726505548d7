"""Schema migrations: applied once, safely, by several processes starting together."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from pipetrail.config import Settings
from pipetrail.model.errors import ConfigError, StoreError
from pipetrail.store import open_store
from pipetrail.store.migrate import alembic_head
from pipetrail.store.schema import SCHEMA_HEAD

OPEN_AND_WRITE = """
import sys
from pathlib import Path
from pipetrail.config import Settings
from pipetrail.model.logs import LogEvent
from pipetrail.store import open_store
store = open_store(Settings(home=Path(sys.argv[1]), database_url=sys.argv[2] or None))
store.append_log_events([LogEvent("/m", sys.argv[3], 1, "hello")])
"""


def test_the_fast_path_knows_the_newest_migration() -> None:
    assert alembic_head() == SCHEMA_HEAD


def test_several_processes_migrate_a_new_store_at_once(settings: Settings) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, str(settings.home),
                          settings.database_url or "", f"p{n}"], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    store = open_store(settings)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert sum(store.count_log_events("/m", f"p{n}") for n in range(4)) == 4


@pytest.mark.parametrize("url, error, message", [
    ("mysql://root@127.0.0.1/x", ConfigError, "unsupported database"),
    ("not a url", ConfigError, "not a database URL"),
    ("postgresql://nobody:secret@127.0.0.1:1/x", StoreError, "cannot open the store"),
])
def test_bad_database_urls_get_clear_errors(tmp_path, url: str, error: type, message: str
                                            ) -> None:
    with pytest.raises(error, match=message) as info:
        open_store(Settings(home=tmp_path, database_url=url))
    assert "secret" not in str(info.value)


def test_an_unusable_home_is_reported(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="PIPETRAIL_HOME"):
        open_store(Settings(home=blocker / "home"))
