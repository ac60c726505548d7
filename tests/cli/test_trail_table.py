"""The trail's table rows: short resource names, each once."""

from __future__ import annotations

from pipetrail.cli.trail import _row


def test_a_data_event_shows_its_dataset_once() -> None:
    record = {"eventName": "ReadDataset", "dataset": "file:///d/orders.csv",
              "resources": [{"ARN": "file:///d/orders.csv"},
                            {"ARN": "arn:pipetrail:jobs:local:job/etl/run/jr_" + "a" * 64}]}
    assert _row(record)["resources"] == "file:///d/orders.csv, job/etl/run/jr_aaaaaaaaa…"
