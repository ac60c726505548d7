"""The on-disk spool: batches in order, whole, removed only when delivered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from pipetrail.agent.spool import REJECTED, Spool, orphans

META = {"url": "http://s", "runId": "jr_spool01", "jobName": "nightly"}


def test_batches_come_out_in_order_within_the_limits(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, META)
    for n in range(5):
        spool.append({"logEvents": [{"message": str(n)}] * (n + 1)})
    first = spool.pending(max_records=4, max_bytes=10**6)
    assert [s.records for s in first] == [1, 2]
    assert spool.pending(max_records=1, max_bytes=10**6)[0].records == 1  # at least one
    assert len(spool.pending(max_records=100, max_bytes=1)) == 1
    batch = orjson.loads(spool.read(first[0]))
    assert batch["batchId"] and batch["logEvents"] == [{"message": "0"}]
    spool.remove(first)
    assert spool.counts() == (3, 12)
    assert [orjson.loads(spool.read(s))["logEvents"][0]["message"]
            for s in spool.pending(100, 10**6)] == ["2", "3", "4"]
    spool.remove(spool.pending(100, 10**6))
    spool.close()
    assert not (tmp_path / "jr_spool01").exists()  # an empty spool goes away


LEAVE = """
import sys
from pathlib import Path
from pipetrail.agent.spool import Spool
spool = Spool.create(Path(sys.argv[1]), {"url": "http://s", "runId": "jr_dead01",
                                          "jobName": "j"})
spool.append({"logEvents": [{"message": "kept"}]})
(spool.directory / "000000000009.tmp").write_bytes(b'{"cut sh')
(spool.directory / "000000000010.json").write_bytes(b'{"cut sh')
print("ready", flush=True)
sys.stdin.read()
"""


def test_a_spool_is_adopted_only_when_its_owner_is_gone(tmp_path: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", LEAVE, str(tmp_path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
    [directory] = orphans(tmp_path)
    assert Spool.adopt(directory) is None  # its runner still holds it
    owner.kill()
    owner.wait()
    adopted = Spool.adopt(directory)
    assert adopted is not None and adopted.meta["runId"] == "jr_dead01"
    [segment] = adopted.pending(100, 10**6)  # the torn files are not batches
    assert orjson.loads(adopted.read(segment))["logEvents"] == [{"message": "kept"}]
    assert not list(directory.glob("*.tmp"))
    later = adopted.append({"logEvents": [{"message": "after"}]})
    assert later.seq > segment.seq
    adopted.close()


def test_refused_batches_are_set_aside_with_the_reason(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, META)
    bad = spool.append({"logEvents": [{"message": "x"}]})
    good = spool.append({"logEvents": [{"message": "y"}]})
    target = spool.reject([bad], "HTTP 400: ValidationException: nope")
    assert target == tmp_path / REJECTED / "jr_spool01"
    assert (target / bad.path.name).exists()
    assert "nope" in (target / f"{bad.path.stem}.error.txt").read_text()
    assert spool.pending(100, 10**6) == [good]
    assert orphans(tmp_path, own="jr_spool01") == []
    spool.close()
