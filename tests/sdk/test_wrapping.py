"""A wrapped function behaves as the original; each call becomes a data record."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from pipetrail.sdk.capture.frames import FrameAccess
from pipetrail.sdk.capture.wrapping import Access, argument, patch, wrap
from pipetrail.sdk.datasets import file_target
from tests.sdk.channel_pipe import PipeChannel, active_channel


def measure(result: Any) -> tuple[int | None, list[str] | None]:
    return len(result), ["value"]


def load(path: str, *, fail: bool = False) -> list[int]:
    """Load numbers."""
    if fail:
        raise LookupError(f"cannot load {path}")
    return [1, 2, 3]


def plan_load(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    uri = file_target(argument(args, kwargs, 0, "path"))
    return None if uri is None else FrameAccess([uri], "read", "demo", "load", "txt", measure)


@pytest.fixture
def pipe() -> Iterator[PipeChannel]:
    with active_channel() as channel:
        yield channel


def test_the_result_and_the_record(pipe: PipeChannel) -> None:
    wrapped = wrap(load, plan_load)
    result = wrapped("/data/n.txt")
    assert result == [1, 2, 3]
    (record,) = pipe.records()
    assert record["t"] == "data" and record["dataset"] == "file:///data/n.txt"
    assert record["operation"] == "read" and record["rows"] == 3
    assert record["columns"] == ["value"] and record["function"] == "load"
    assert record["library"] == "demo" and "errorCode" not in record


def test_the_same_exception_is_raised_and_recorded(pipe: PipeChannel) -> None:
    wrapped = wrap(load, plan_load)
    with pytest.raises(LookupError) as caught:
        wrapped(path="/data/x.txt", fail=True)
    assert str(caught.value) == "cannot load /data/x.txt"
    (record,) = pipe.records()
    assert record["errorCode"] == "LookupError"
    assert record["errorMessage"] == "cannot load /data/x.txt"
    assert record["rows"] is None


def test_the_wrapper_keeps_the_originals_name_and_signature() -> None:
    wrapped = wrap(load, plan_load)
    assert wrapped.__name__ == "load" and wrapped.__doc__ == "Load numbers."
    assert inspect.signature(wrapped) == inspect.signature(load)


def test_a_failing_plan_or_record_does_not_break_the_call(pipe: PipeChannel) -> None:
    def broken_plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        raise RuntimeError("planning failed")

    assert wrap(load, broken_plan)("/data/n.txt") == [1, 2, 3]

    class BrokenAccess:
        def succeeded(self, result: Any) -> None:
            raise RuntimeError("recording failed")

        def failed(self, error: Exception) -> None:
            raise RuntimeError("recording failed")

    wrapped = wrap(load, lambda a, k: BrokenAccess())
    assert wrapped("/data/n.txt") == [1, 2, 3]
    with pytest.raises(LookupError):
        wrapped("/data/n.txt", fail=True)
    assert pipe.records() == []


def test_calls_made_inside_a_captured_call_are_not_recorded_again(pipe: PipeChannel) -> None:
    inner = wrap(load, plan_load)

    def outer(path: str) -> list[int]:
        return inner(path + ".inner") + inner(path + ".inner")

    assert wrap(outer, plan_load)("/data/o.txt") == [1, 2, 3, 1, 2, 3]
    assert [r["dataset"] for r in pipe.records()] == ["file:///data/o.txt"]


def test_no_dataset_no_record(pipe: PipeChannel) -> None:
    import io

    assert wrap(load, plan_load)(io.StringIO("1\n2\n")) == [1, 2, 3]
    assert pipe.records() == []


def test_outside_pipetrail_run_nothing_is_sent() -> None:
    assert wrap(load, plan_load)("/data/n.txt") == [1, 2, 3]


def test_patch_wraps_once() -> None:
    class Reader:
        def read(self, path: str) -> str:
            return path

    assert patch(Reader, "read", lambda a, k: None)
    wrapped = Reader.read
    assert not patch(Reader, "read", lambda a, k: None)
    assert Reader.read is wrapped and Reader().read("p") == "p"
    assert not patch(Reader, "absent", lambda a, k: None)


def test_a_huge_column_list_is_left_out_rather_than_lost(pipe: PipeChannel) -> None:
    many = [f"column_{i:05d}_with_a_long_name" for i in range(4000)]
    access = FrameAccess(["file:///data/wide.parquet"], "read", "demo", "load", None,
                         lambda r: (1, many))
    access.succeeded(None)
    (record,) = pipe.records()
    assert record["columns"] is None and record["details"]["columnsOmitted"] == 4000
