"""Chained ingest: audit events/s into the embedded store, committed, with the hash chain.

The baseline, measured in the same run on the same machine, is plain SQLite
``executemany`` of the same rows (same columns and indexes, bodies already serialised)
into a table without the chain, committed per batch as well. Both runs write to a fresh
database file in WAL mode. The chained figure includes what the store does per event:
validation and canonical JSON, duplicate check, hashing, the resources index.

    python bench/trail_ingest.py [--events 200000] [--batch 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.identity import Identity
from pipetrail.store import open_store
from pipetrail.store.audit import audit_rows

WHO = Identity(type="User", principal_id="u-1", user_name="alice", workspace="local")
BASELINE_TABLE = """
CREATE TABLE audit_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id VARCHAR(64) NOT NULL
  UNIQUE, event_time BIGINT NOT NULL, event_source VARCHAR(128) NOT NULL, event_name
  VARCHAR(128) NOT NULL, event_category VARCHAR(16) NOT NULL, read_only BOOLEAN NOT NULL,
  principal VARCHAR(255) NOT NULL, error_code VARCHAR(128), dataset TEXT, run_id VARCHAR(80),
  body TEXT NOT NULL);
CREATE INDEX ix_audit_time ON audit_events (event_time);
CREATE INDEX ix_audit_name_time ON audit_events (event_name, event_time);
CREATE INDEX ix_audit_principal_time ON audit_events (principal, event_time);
CREATE INDEX ix_audit_dataset_time ON audit_events (dataset, event_time);
CREATE TABLE audit_resources (event_seq BIGINT NOT NULL, resource TEXT NOT NULL,
  event_time BIGINT NOT NULL);
CREATE INDEX ix_audit_resource_time ON audit_resources (resource, event_time);
CREATE INDEX ix_audit_resource_seq ON audit_resources (event_seq);
"""
COLUMNS = ("event_id", "event_time", "event_source", "event_name", "event_category",
           "read_only", "principal", "error_code", "dataset", "run_id", "body")


def make_events(n: int) -> list[AuditEvent]:
    return [AuditEvent("data.pipetrail", "ReadDataset", WHO, event_type="DataAccess",
                       read_only=True, dataset=f"s3://lake/orders/part-{i % 500}.parquet",
                       operation="read", rows=i, bytes=i * 100, columns=["id", "amount", "day"],
                       run_id=f"jr_{i % 97:064x}", request_parameters={"path": f"/p/{i}"},
                       resources=[Resource("Pipetrail::Jobs::Job",
                                           f"arn:pipetrail:jobs:local:job/j{i % 7}")])
            for i in range(n)]


def chained(events: list[AuditEvent], batch: int, home: Path) -> float:
    store = open_store(Settings(home=home))
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        store.append_audit_events(events[i:i + batch])
    elapsed = time.perf_counter() - started
    assert store.count_audit_events() == len(events)
    store.close()
    return len(events) / elapsed


def baseline(events: list[AuditEvent], batch: int, home: Path) -> float:
    rows, resources = audit_rows(events)  # serialised before the clock starts
    home.mkdir(parents=True)
    conn = sqlite3.connect(home / "plain.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(BASELINE_TABLE)
    insert = (f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES "
              f"({', '.join('?' for _ in COLUMNS)})")
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        conn.execute("BEGIN IMMEDIATE")
        first = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0]
        conn.executemany(insert, [tuple(r[c] for c in COLUMNS) for r in chunk])
        conn.executemany("INSERT INTO audit_resources VALUES (?, ?, ?)",
                         [(first + n + 1, name, resources[r["event_id"]][0])
                          for n, r in enumerate(chunk) for name in resources[r["event_id"]][1]])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            events = make_events(args.events)
            plain = baseline(events, args.batch, Path(tmp) / f"plain{round_}")
            ours = chained(make_events(args.events), args.batch, Path(tmp) / f"home{round_}")
            pairs.append((ours, plain))
            print(f"round {round_ + 1}: chained {ours:,.0f} events/s, plain executemany "
                  f"{plain:,.0f} events/s, ratio {ours / plain:.2f}")
    ours = statistics.median(p[0] for p in pairs)
    plain = statistics.median(p[1] for p in pairs)
    print(f"median: chained {ours:,.0f} events/s; plain SQLite executemany {plain:,.0f} "
          f"events/s; ratio {ours / plain:.2f} (target >= 0.5 and >= 50,000 events/s)")


if __name__ == "__main__":
    main()
