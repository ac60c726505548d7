"""Finding "the data events on dataset X by principal Y in a 30-day window" in a large trail.

N data events (default 1,000,000; the issue's figure is ``--events 10000000``) spread
over a year, on 100 datasets by 50 principals, are written through the store in big
batches and delivered once to a local archive (gzip CloudTrail log files of 10,000
events, signed digests). The same question is then answered three ways, in the same run:

* (a) ``trail lookup --resource X --user Y --start --end``: the store's resource/time
  index (timed through the action function, as the CLI and the server call it);
* (b) ``trail query``: DuckDB SQL over the archive's log files (only those whose time
  span meets the window are read) plus the store's undelivered events;
* (c) the way without an index or a query engine: a Python loop that gunzips and
  JSON-parses every archive file and filters.

Prints each time and the ratios b/a and c/a (the issue's target: (a) within 1 s and at
least 50 times faster than (c) at 10M events).

``python bench/trail_lookup.py [--events 1000000] [--database-url postgresql://…]``
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from pipetrail.actions.context import ActionContext
from pipetrail.actions.trail import lookup_events
from pipetrail.actions.trail_archive import query_events
from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.clock import cloudtrail_time, now_ms
from pipetrail.model.identity import Identity
from pipetrail.store import open_store
from pipetrail.store.store import AuditQuery, Store
from pipetrail.trail import layout
from pipetrail.trail.archive import open_archive
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.signing import Signer

DAY = 86_400_000
DATASETS = 100
USERS = 50
BATCH = 20_000
WORKSPACE = "local"
DATASET = "s3://lake/dataset-07"
USER = "user-13"


def generate(store: Store, events: int, first: int, span: int) -> None:
    identities = [Identity("User", f"id-{u}", f"user-{u:02d}", WORKSPACE) for u in range(USERS)]
    step = span / events
    for start in range(0, events, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, events)):
            dataset = f"s3://lake/dataset-{i % DATASETS:02d}"
            batch.append(AuditEvent(
                event_source="data.pipetrail", event_name="ReadDataset",
                identity=identities[(i // DATASETS) % USERS], event_type="DataAccess",
                read_only=True, dataset=dataset, operation="read", rows=i % 5000,
                bytes=(i % 5000) * 120, columns=["id", "name", "amount"],
                run_id=f"jr_{i // 1000:064x}", event_time_ms=first + int(i * step),
                resources=[Resource("Pipetrail::Data::Dataset", dataset)],
                request_parameters={"path": dataset}))
        store.append_audit_events(batch)


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The median time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def scan(archive_root: Path, start: int, end: int) -> int:
    """(c): every log file, gunzipped and parsed, filtered in Python."""
    low, high = cloudtrail_time(start), cloudtrail_time(end)
    found = 0
    for path in sorted((archive_root / layout.logs_prefix(WORKSPACE)).rglob("*.json.gz")):
        for record in orjson.loads(gzip.decompress(path.read_bytes()))["Records"]:
            if (record.get("dataset") == DATASET
                    and record["userIdentity"].get("userName") == USER
                    and low <= record["eventTime"] < high):
                found += 1
    return found


def _first_event(store: Store) -> int:
    return min(f.oldest_event for f in store.trail_log_files())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (default: SQLite in a temporary home)")
    parser.add_argument("--home", type=Path, default=None,
                        help="keep the home here (a kept home is reused by the next run)")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="pipetrail-bench-"))
    settings = Settings(home=home, database_url=args.database_url)
    store = open_store(settings)
    ctx = ActionContext.local(store, settings)
    archive = open_archive(None, home)
    span = 365 * DAY
    try:
        if store.trail_log_files():  # a kept home: reuse its events
            first = _first_event(store)
            print(f"reusing the {store.count_audit_events():,} events under {home}")
        else:
            first = now_ms() // 1000 * 1000 - span
            began = time.perf_counter()
            generate(store, args.events, first, span)
            written = time.perf_counter() - began
            began = time.perf_counter()
            Deliverer(store, archive, Signer.load_or_create(home / "keys" / "signing.pem"),
                      WORKSPACE, max_events=args.events).deliver()
            delivered = time.perf_counter() - began
            print(f"{args.events:,} events: written in {written:.1f} s, delivered in "
                  f"{delivered:.1f} s ({len(store.trail_log_files()):,} log files)")

        start = first + 200 * DAY
        end = start + 30 * DAY
        lookup_time, found = timed(lambda: lookup_events(ctx, AuditQuery(
            resource=DATASET, user=USER, start=start, end=end, limit=10_000)))
        statement = (f"SELECT eventid, eventtime, rows FROM events WHERE dataset = '{DATASET}' "
                     f"AND username = '{USER}' AND eventtime >= make_timestamp({start * 1000}) "
                     f"AND eventtime < make_timestamp({end * 1000})")
        query_time, result = timed(lambda: query_events(ctx, statement, max_rows=10_000))
        scan_time, scanned = timed(lambda: scan(home / "archive", start, end), repeat=1)
        assert len(found) == len(result.rows) == scanned, (len(found), len(result.rows),
                                                           scanned)
        print(f"matching events: {len(found)}")
        print(f"(a) lookup through the index : {lookup_time * 1000:9.1f} ms")
        print(f"(b) trail query (DuckDB)     : {query_time * 1000:9.1f} ms  "
              f"({result.statistics['archiveFilesRead']} log files read)")
        print(f"(c) gunzip + parse every file: {scan_time * 1000:9.1f} ms")
        print(f"b/a = {query_time / lookup_time:.1f}   c/a = {scan_time / lookup_time:.0f}   "
              f"c/b = {scan_time / query_time:.1f}")
    finally:
        store.close()
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
