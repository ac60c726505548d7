"""``pipetrail.sdk.record_data_access``: the explicit call for data the capture misses."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from pipetrail.sdk import record_data_access
from tests.sdk.channel_pipe import active_channel


def test_outside_pipetrail_run_it_does_nothing_and_never_fails() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert record_data_access("s3://bucket/key", "read", rows=3) is None
        assert record_data_access(Path("/data/x.csv"), "delete") is None


def test_it_sends_a_normalised_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with active_channel() as pipe:
        record_data_access("export/out.csv", "write", rows=10, bytes=120,
                           columns=["id", "name"])
        record_data_access("s3a://bucket/k?sig=x", "delete")
        first, second = pipe.records()
    assert first["dataset"] == f"file://{tmp_path}/export/out.csv"
    assert (first["operation"], first["rows"], first["bytes"]) == ("write", 10, 120)
    assert first["columns"] == ["id", "name"]
    assert first["function"] == "record_data_access"
    assert second["dataset"] == "s3://bucket/k" and second["operation"] == "delete"


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("s3://b/k", "copy"), {}, "operation must be one of read, write, delete"),
    (("", "read"), {}, "dataset must be a non-empty path or URI"),
    ((42, "read"), {}, "dataset must be a non-empty path or URI"),
    (("s3://b/k", "read"), {"rows": -1}, "rows must be a non-negative integer"),
    (("s3://b/k", "read"), {"bytes": 1.5}, "bytes must be a non-negative integer"),
    (("s3://b/k", "read"), {"columns": "id"}, "columns must be a list"),
])
def test_bad_arguments_warn_and_record_nothing(args: tuple[object, ...],
                                               kwargs: dict[str, object],
                                               message: str) -> None:
    with active_channel() as pipe:
        with pytest.warns(RuntimeWarning, match=message):
            record_data_access(*args, **kwargs)  # type: ignore[arg-type]
        assert pipe.records() == []
