"""A run on the embedded store delivers the trail when it ends: its data events are in a
signed archive file at once, and the server's scheduled delivery makes digests."""

from __future__ import annotations

import gzip
import json

from pipetrail.actions.background import DeliverTrail, service_context
from pipetrail.config import Settings
from pipetrail.store import Store
from tests.trail.builders import make_trail


def archived(settings: Settings) -> list[dict]:
    trail_dir = settings.home / "archive" / "PipetrailLogs" / "local" / "CloudTrail"
    return [r for path in sorted(trail_dir.rglob("*.json.gz"))
            for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]]


def test_a_run_delivers_its_trail_when_it_ends(cli, script, settings: Settings,  # type: ignore[no-untyped-def]
                                               store: Store, tmp_path) -> None:
    data = tmp_path / "in.csv"
    data.write_text("id,amount\n1,2\n")
    job = script(f"import pandas as pd\npd.read_csv({str(data)!r}, usecols=['amount'])\n")
    result = cli("run", str(job), "--job", "reader")
    assert result.returncode == 0, result.stderr
    records = archived(settings)
    names = [r["eventName"] for r in records]
    assert "StartJobRun" in names and "JobRunStateChange" in names
    [read] = [r for r in records if r.get("dataset", "").endswith("in.csv")]
    assert read["columns"] == ["amount"] and read["operation"] == "read"
    assert make_trail(store, settings.home).validate() == []


def test_delivery_at_run_end_can_be_switched_off(cli, script, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    result = cli("run", str(script("pass\n")), env={"PIPETRAIL_DELIVER_ON_RUN_END": "false"})
    assert result.returncode == 0, result.stderr
    assert archived(settings) == []


def test_the_server_evaluator_delivers_every_interval(store: Store, settings: Settings) -> None:
    trail = make_trail(store, settings.home)
    trail.add(3)
    evaluator = DeliverTrail(interval=1.0)
    ctx = service_context(store, settings)
    evaluator.evaluate(ctx)
    evaluator.evaluate(ctx)
    digests = store.trail_digests()
    assert [d.digest_no for d in digests] == [1, 2]
    assert len(archived(settings)) == 3
    assert trail.validate() == []
