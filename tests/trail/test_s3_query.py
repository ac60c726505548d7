"""Query, export and retention on an S3 archive (a real SeaweedFS on 127.0.0.1): the log
files are read and deleted through the archive interface, as with a folder."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipetrail.model.clock import now_ms
from pipetrail.store import Store
from pipetrail.trail import retention
from pipetrail.trail.archive import Archive
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.export import MANIFEST, export_events
from pipetrail.trail.query import run_query
from pipetrail.trail.signing import Signer
from pipetrail.trail.validate import validate
from tests.trail.timeline import DAY, data_event

pytestmark = pytest.mark.s3


def test_query_export_and_retention_on_s3(store: Store, s3_archive: Archive,
                                          tmp_path: Path) -> None:
    signer = Signer.load_or_create(tmp_path / "key.pem")
    base = now_ms() // 1000 * 1000
    store.append_audit_events([data_event(base - 100 * DAY + i * 1000) for i in range(10)])
    store.append_audit_events([data_event(base - DAY + i * 1000, user="bob")
                               for i in range(10)])
    Deliverer(store, s3_archive, signer, "local", file_events=10).deliver()
    store.append_audit_events([data_event(base - 1000, user="carol")])

    result = run_query(store, s3_archive, "SELECT username, count(*) FROM events "
                       "GROUP BY 1 ORDER BY 1", workdir=tmp_path / "work")
    assert result.rows == [("alice", 10), ("bob", 10), ("carol", 1)]
    assert result.statistics["archiveFilesRead"] == 2
    exported = export_events(store, s3_archive, "local", tmp_path / "out")
    assert exported.events == 21 and exported.archive_files == 2
    assert orjson.loads((tmp_path / "out" / MANIFEST).read_bytes())["eventCount"] == 21

    plan = retention.plan_retention(store, 30, [], now_ms())
    outcome = retention.apply_retention(store, s3_archive, plan, now_ms())
    assert outcome.events == 10 and not s3_archive.exists(outcome.files[0].log_key)
    assert validate(store, s3_archive, "local").valid
    after = run_query(store, s3_archive, "SELECT count(*) FROM events")
    assert after.rows == [(11,)] and after.warnings == []
