"""Speed of the log languages, as ratios against plain-Python baselines run alongside.

    python bench/log_languages.py [--events N]

Each line times one language feature over the same synthetic events and compares it to
the simplest hand-written Python doing the same job (the baseline); a ratio of 3.0 means
three times the baseline's time. The last line compares the query executor's peak memory
on a stream of events with the memory the events take when held in a list.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from pipetrail.logs.filter_pattern import compile_pattern
from pipetrail.logs.query import run_query

T0 = 1_790_000_000_000


def make_events(count: int) -> list[str]:
    rng = random.Random(7)
    events = []
    for i in range(count):
        kind = i % 3
        level = rng.choice(["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"])
        latency = rng.randint(1, 2000)
        if kind == 0:
            events.append(json.dumps({"level": level, "latency": latency,
                                      "user": {"id": rng.randint(1, 50)}, "path": "/api/x"}))
        elif kind == 1:
            status = rng.choice([200, 200, 404, 500, 503])
            events.append(f'10.0.{i % 256}.{i % 7} - user{i % 9} [21/Sep/2026:14:13:20 +0000] '
                          f'"GET /item/{i}.html HTTP/1.1" {status} {latency * 10}')
        else:
            events.append(f"{level} worker-{i % 4} processed batch {i} in {latency} ms")
    return events


def timed(function: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, ours: float, baseline: float, count: int) -> None:
    print(f"{name:<44} {count / ours:>12,.0f} events/s   ratio {ours / baseline:5.2f}x baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    count = parser.parse_args().events
    events = make_events(count)
    print(f"{count} synthetic events (JSON, access-log and plain lines)\n")

    terms = compile_pattern("ERROR -DEBUG")
    report("terms: ERROR -DEBUG",
           timed(lambda: [e for e in events if terms.matches(e)]),
           timed(lambda: [e for e in events if "ERROR" in e and "DEBUG" not in e]), count)

    regex_pattern = compile_pattern(r"%processed\sbatch\s[0-9]+\sin\s[0-9]{4}\sms%")
    plain_regex = re.compile(r"processed\sbatch\s[0-9]+\sin\s[0-9]{4}\sms")
    report("regex: %processed\\sbatch ... [0-9]{4}\\sms%",
           timed(lambda: [e for e in events if regex_pattern.matches(e)]),
           timed(lambda: [e for e in events if plain_regex.search(e)]), count)

    json_pattern = compile_pattern('{ $.latency > 500 && $.level = "ERROR" }')

    def json_baseline() -> list[str]:
        out = []
        for e in events:
            if not e.startswith("{"):
                continue
            doc = json.loads(e)
            if isinstance(doc.get("latency"), (int, float)) and doc["latency"] > 500 \
                    and doc.get("level") == "ERROR":
                out.append(e)
        return out
    report("json: { $.latency > 500 && $.level = ERROR }",
           timed(lambda: [e for e in events if json_pattern.matches(e)]),
           timed(json_baseline), count)

    delimited = compile_pattern("[ip, id, user, time, request, status = 5*, bytes > 1000]")

    def delimited_baseline() -> list[str]:
        out = []
        for e in events:
            parts = e.split()
            if len(parts) >= 10 and parts[-2].startswith("5") and parts[-1].isdigit() \
                    and int(parts[-1]) > 1000:
                out.append(e)
        return out
    report("space-delimited: 7 fields, status = 5*, bytes > 1000",
           timed(lambda: [e for e in events if delimited.matches(e)]),
           timed(delimited_baseline), count)

    records: list[dict[str, Any]] = [
        {"@timestamp": T0 + i * 100, "@message": e, "@logStream": "s", "@log": "/g",
         "@ingestionTime": T0 + i * 100} for i, e in enumerate(events)]
    query = "filter level = 'ERROR' | stats count(*) as n, avg(latency) as mean by bin(1m)"

    def stats_baseline() -> dict[int, list[float]]:
        groups: dict[int, list[float]] = {}
        for r in records:
            message = r["@message"]
            if not message.startswith("{"):
                continue
            doc = orjson.loads(message)
            if doc.get("level") != "ERROR":
                continue
            bucket = r["@timestamp"] - r["@timestamp"] % 60_000
            totals = groups.setdefault(bucket, [0, 0.0])
            totals[0] += 1
            totals[1] += doc["latency"]
        return groups
    report("query: filter | stats count, avg by bin(1m)",
           timed(lambda: run_query(query, records)), timed(stats_baseline), count)

    top = "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc " \
          "| limit 20"
    report("query: filter like | sort desc | limit 20",
           timed(lambda: run_query(top, records)),
           timed(lambda: sorted((r for r in records if "ERROR" in r["@message"]),
                                key=lambda r: r["@timestamp"], reverse=True)[:20]), count)

    def stream() -> Iterator[dict[str, Any]]:
        for i, e in enumerate(events):
            yield {"@timestamp": T0 + i * 100, "@message": e, "@logStream": "s", "@log": "/g",
                   "@ingestionTime": T0 + i * 100}
    tracemalloc.start()
    run_query(query, stream())
    _, query_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    held = list(stream())
    _, list_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del held
    print(f"\nquery peak memory on a stream: {query_peak / 1e6:.1f} MB = "
          f"{query_peak / list_peak:.3f}x the {list_peak / 1e6:.1f} MB the events take as a "
          "list")


if __name__ == "__main__":
    main()
