"""The batch writer stores everything queued, even when the run ends with a long queue."""

from __future__ import annotations

import queue

import pytest

from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.runner import writer as writer_module
from pipetrail.runner.writer import BatchWriter
from pipetrail.store import Store


def test_closing_writes_every_queued_record(store: Store,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "MAX_BATCH", 10)  # a drain takes 40 records
    records: queue.SimpleQueue[LogEvent | MetricDatum] = queue.SimpleQueue()
    count = 2_000
    for i in range(count):
        records.put(LogEvent("/g", "s", i, f"line {i}"))
    records.put(MetricDatum(namespace="N", name="m", timestamp=1, value=1.0, run_id="jr_w"))
    writer = BatchWriter(store, records)
    writer.start()
    writer.close()  # at once: nearly all of the queue is still waiting
    assert writer.failures == []
    assert store.count_log_events("/g", "s") == count
    assert writer.written == count + 1
    assert len(store.get_run_metrics("jr_w")) == 1
