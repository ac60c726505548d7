"""Locating and streaming event logs: layouts, in-progress markers, damage, bad input."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrail.model.errors import ValidationError
from pipetrail.spark import analyze
from pipetrail.spark.eventlog import EventLogReader, locate
from pipetrail.spark.findings import Registry
from tests.spark.synth import EventLog, Task

NONE = Registry()


def small_log() -> EventLog:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100), Task(120)], [Task(50)]])
    log.end()
    return log


def events(path: Path) -> list[str]:
    return [e["Event"] for e in EventLogReader(locate(path)).events()]


def test_plain_file(tmp_path: Path) -> None:
    path = small_log().write(tmp_path / "app-20261101000000-0001")
    layout = locate(path)
    assert (layout.kind, layout.in_progress, layout.app_id) == (
        "file", False, "app-20261101000000-0001")
    assert events(path)[0] == "SparkListenerLogStart"


def test_inprogress_file_name(tmp_path: Path) -> None:
    path = small_log().write(tmp_path / "app-1.zstd.inprogress")
    assert locate(path).in_progress is True
    # Not actually compressed: the content decides, not the name.
    assert analyze(path, NONE).application["id"] == "app-20261101000000-0001"


def _rolling(tmp_path: Path, lines: list[bytes], parts: list[int], status: str) -> Path:
    folder = tmp_path / "eventlog_v2_app-1"
    folder.mkdir()
    size = -(-len(lines) // len(parts))
    for n, number in enumerate(parts):
        chunk = b"".join(lines[n * size:(n + 1) * size])
        (folder / f"events_{number}_app-1.zstd").write_bytes(
            zstandard.ZstdCompressor().compress(chunk))
    (folder / status).write_bytes(b"")
    (folder / ".appstatus_app-1.crc").write_bytes(b"xx")
    return folder


def test_rolling_parts_read_in_numeric_order(tmp_path: Path) -> None:
    log = small_log()
    lines = [orjson.dumps(e) + b"\n" for e in log.events]
    folder = _rolling(tmp_path, lines, [1, 2, 10], "appstatus_app-1")
    layout = locate(folder)
    assert [p.path.name for p in layout.parts] == [
        "events_1_app-1.zstd", "events_2_app-1.zstd", "events_10_app-1.zstd"]
    assert layout.in_progress is False and layout.app_id == "app-1"
    assert events(folder) == [e["Event"] for e in log.events]
    plain = analyze(log.write(tmp_path / "plain"), NONE).to_dict()
    rolled = analyze(folder, NONE).to_dict()
    assert rolled["stages"] == plain["stages"] and rolled["jobs"] == plain["jobs"]


def test_rolling_in_progress_marker(tmp_path: Path) -> None:
    lines = [orjson.dumps(e) + b"\n" for e in small_log().events[:-1]]
    folder = _rolling(tmp_path, lines, [1, 2], "appstatus_app-1.inprogress")
    report = analyze(folder, NONE)
    assert report.source["inProgress"] is True
    assert report.application["completed"] is False


def test_compacted_folder_starts_at_the_newest_compact_file(tmp_path: Path) -> None:
    lines = [orjson.dumps(e) + b"\n" for e in small_log().events]
    folder = _rolling(tmp_path, lines, [1, 2, 3], "appstatus_app-1")
    (folder / "events_2_app-1.zstd").rename(folder / "events_2_app-1.compact.zstd")
    assert [p.path.name for p in locate(folder).parts] == [
        "events_2_app-1.compact.zstd", "events_3_app-1.zstd"]


def test_not_an_event_log(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\nworld\n")
    with pytest.raises(ValidationError, match="not a Spark event log"):
        analyze(text, NONE)
    other_json = tmp_path / "data.json"
    other_json.write_text('{"name": "x"}\n')
    with pytest.raises(ValidationError, match="line 1 is not a Spark listener event"):
        analyze(other_json, NONE)
    empty = tmp_path / "app-2"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="no events"):
        analyze(empty, NONE)
    with pytest.raises(ValidationError, match="not a Spark rolling event log folder"):
        analyze(tmp_path, NONE)
    with pytest.raises(ValidationError, match="no such event log"):
        analyze(tmp_path / "missing", NONE)


def test_unknown_codec_names_the_codec(tmp_path: Path) -> None:
    path = tmp_path / "app-1.brotli"
    path.write_bytes(b"\x8b\x07\x80hello brotli bytes")
    with pytest.raises(ValidationError, match="unknown compression codec 'brotli'"):
        analyze(path, NONE)


def test_bad_line_in_the_middle_is_skipped_and_named(tmp_path: Path) -> None:
    lines = small_log().lines().split(b"\n")
    lines.insert(8, b'{"Event":"SparkListenerTaskEnd","Stage ID":')
    lines.insert(12, b"\x00\x01garbage")
    path = tmp_path / "app-1"
    path.write_bytes(b"\n".join(lines))
    report = analyze(path, NONE)
    assert report.source["badLines"] == 2
    assert report.source["firstBadLine"].startswith("line 9 of app-1: not JSON")
    assert any("skipped 2 unreadable line(s); the first is line 9" in w for w in report.warnings)
    assert len(report.stages) == 2


def test_event_with_wrong_field_types_is_skipped(tmp_path: Path) -> None:
    log = small_log()
    log.events.insert(6, {"Event": "SparkListenerTaskEnd", "Stage ID": "x", "Task Info": 3})
    report = analyze(log.write(tmp_path / "app-1"), NONE)
    assert report.source["badLines"] == 1
    assert "line 7 of app-1" in report.source["firstBadLine"]
    assert "SparkListenerTaskEnd" in report.source["firstBadLine"]


def test_truncated_last_line(tmp_path: Path) -> None:
    data = small_log().lines()
    path = tmp_path / "app-1.inprogress"
    path.write_bytes(data[:-25])
    report = analyze(path, NONE)
    assert report.source["truncated"] is True
    assert "cut off before its end" in report.source["firstBadLine"]
    assert report.source["inProgress"] is True


def test_truncated_compressed_part_is_analysed_with_a_warning(tmp_path: Path,
                                                              data_dir: Path) -> None:
    data = (data_dir / "codec-lz4.lz4").read_bytes()
    path = tmp_path / "local-1.lz4"
    path.write_bytes(data[: len(data) * 9 // 10])
    report = analyze(path, NONE)
    assert report.source["truncated"] is True
    assert any("lz4 stream ends" in w for w in report.warnings)
    assert 5 < report.source["events"] < 28


@pytest.mark.parametrize("codec", ["zstd", "lz4", "snappy", "lzf"])
def test_every_codec_gives_the_same_analysis(data_dir: Path, tmp_path: Path, codec: str) -> None:
    src = data_dir / f"codec-{codec}.{codec}"
    shutil.copy(src, tmp_path / src.name)
    report = analyze(tmp_path / src.name, NONE)
    assert report.source["codecs"] == [codec]
    assert report.source["warnings"] == []
    assert [(s["stageId"], s["status"]) for s in report.stages] == [
        (0, "COMPLETE"), (1, "SKIPPED"), (2, "COMPLETE")]
    assert report.application["name"] == "codec-fixture"


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_fuzz_random_files(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.log"
    path.write_bytes(data)
    with contextlib.suppress(ValidationError):
        analyze(path, NONE)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 6000), spots=st.lists(st.tuples(st.integers(0, 1 << 20),
                                                          st.integers(0, 255)), max_size=4))
def test_fuzz_damaged_logs(tmp_path: Path, cut: int, spots: list[tuple[int, int]]) -> None:
    data = bytearray(small_log().lines())
    data = data[: max(1, len(data) - cut)]
    for where, value in spots:
        data[where % len(data)] = value
    path = tmp_path / "fuzz.log"
    path.write_bytes(bytes(data))
    try:
        report = analyze(path)
    except ValidationError:
        return
    report.to_dict()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_events_with_odd_values(tmp_path: Path, data: st.DataObject) -> None:
    log = small_log()
    small = st.integers(-5, 5)
    odd = st.one_of(st.none(), small, st.text(max_size=3), st.booleans(),
                    st.lists(small, max_size=2),
                    st.dictionaries(st.text(max_size=2), small, max_size=2))
    for _ in range(3):
        target = data.draw(st.sampled_from(log.events[3:]))
        while True:  # maybe go down into a nested object
            nested = [k for k, v in target.items() if isinstance(v, dict) and v]
            if not nested or not data.draw(st.booleans()):
                break
            target = target[data.draw(st.sampled_from(sorted(nested)))]
        key = data.draw(st.sampled_from(sorted(target)))
        if key != "Event":
            target[key] = data.draw(odd)
    path = log.write(tmp_path / "odd.log")
    with contextlib.suppress(ValidationError):
        analyze(path).to_dict()


def test_overlong_line_is_skipped_without_reading_it_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipetrail.spark.eventlog as eventlog

    monkeypatch.setattr(eventlog, "MAX_LINE", 4096)
    lines = small_log().lines().split(b"\n")
    lines.insert(5, b'{"Event":"SparkListenerUnpersistRDD","x":"' + b"y" * 20000 + b'"}')
    path = tmp_path / "app-1"
    path.write_bytes(b"\n".join(lines))
    report = analyze(path, NONE)
    assert report.source["firstBadLine"] == "line 6 of app-1: longer than 4,096 bytes (skipped)"
    assert len(report.stages) == 2
