"""``trail export``: CloudTrail log files of a window's events, each once, with a
manifest."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import orjson
import pytest

from pipetrail.model.errors import ValidationError
from pipetrail.trail.export import MANIFEST, export_events
from tests.trail.timeline import WORKSPACE, Timeline

NAME = re.compile(r"PipetrailLogs/local/CloudTrail/local/\d{4}/\d{2}/\d{2}/"
                  r"local_CloudTrail_local_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz")


def read_export(out: Path) -> tuple[dict, list[bytes]]:  # type: ignore[type-arg]
    manifest = orjson.loads((out / MANIFEST).read_bytes())
    records: list[bytes] = []
    for entry in manifest["files"]:
        packed = (out / entry["key"]).read_bytes()
        data = gzip.decompress(packed)
        assert hashlib.sha256(packed).hexdigest() == entry["fileHashValue"]
        assert hashlib.sha256(data).hexdigest() == entry["hashValue"]
        document = orjson.loads(data)
        assert list(document) == ["Records"]
        assert len(document["Records"]) == entry["eventCount"]
        records += [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in document["Records"]]
    return manifest, records


def test_every_event_is_exported_once_exactly_as_the_trail_holds_it(
        timeline: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipetrail.trail.export.FILE_EVENTS", 7)
    timeline.days_ago(23, days=3)
    timeline.deliver()
    timeline.days_ago(5, days=1, user="bob")  # not delivered yet
    out = tmp_path / "export"
    result = export_events(timeline.store, timeline.archive, WORKSPACE, out)
    manifest, records = read_export(out)
    stored = timeline.bodies()
    assert sorted(records) == sorted(stored.values())
    assert manifest["eventCount"] == result.events == 28
    assert [f["eventCount"] for f in manifest["files"]] == [7, 7, 7, 7]
    assert manifest["sources"] == {"archiveLogFiles": 3, "storeEvents": 5}
    assert manifest["format"] == "cloudtrail" and manifest["workspace"] == WORKSPACE
    assert all(NAME.fullmatch(f["key"]) for f in manifest["files"])


def test_a_window_exports_only_its_events(timeline: Timeline, tmp_path: Path) -> None:
    events = timeline.days_ago(30, days=3, step_ms=3_600_000)
    timeline.deliver()
    start, end = events[8].event_time_ms, events[17].event_time_ms
    export_events(timeline.store, timeline.archive, WORKSPACE, tmp_path / "out", start=start,
                  end=end)
    _, records = read_export(tmp_path / "out")
    assert sorted(records) == sorted(
        timeline.bodies()[e.event_id] for e in events[8:17])


def test_a_lost_log_file_is_exported_from_the_store(timeline: Timeline, tmp_path: Path) -> None:
    timeline.days_ago(15, days=2)
    timeline.deliver()
    timeline.archive.put(timeline.log_keys()[0], b"not gzip")
    result = export_events(timeline.store, timeline.archive, WORKSPACE, tmp_path / "out")
    _, records = read_export(tmp_path / "out")
    assert sorted(records) == sorted(timeline.bodies().values())
    assert "unreadable" in result.warnings[0]


def test_a_directory_that_is_not_empty_needs_force(timeline: Timeline, tmp_path: Path) -> None:
    timeline.days_ago(3, days=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ValidationError, match="not empty"):
        export_events(timeline.store, timeline.archive, WORKSPACE, out)
    assert not (out / MANIFEST).exists()
    export_events(timeline.store, timeline.archive, WORKSPACE, out, force=True)
    assert (out / "keep.txt").read_text() == "mine"
    assert read_export(out)[0]["eventCount"] == 3


def test_bad_arguments_are_refused(timeline: Timeline, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="start time must be before"):
        export_events(timeline.store, timeline.archive, WORKSPACE, tmp_path / "a", start=2, end=1)
    with pytest.raises(ValidationError, match="format"):
        export_events(timeline.store, timeline.archive, WORKSPACE, tmp_path / "b", fmt="parquet")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValidationError, match="not a directory"):
        export_events(timeline.store, timeline.archive, WORKSPACE, tmp_path / "file")
