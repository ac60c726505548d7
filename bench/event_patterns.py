"""Event-pattern matching throughput: the indexed rule set against a loop over the rules.

Generates (seeded) a set of rules with the mix of operators real rule sets use -- exact
sources and detail-types, state lists, prefixes and suffixes on dataset URIs, wildcards,
equals-ignore-case, anything-but, numeric ranges, exists, cidr, ``$or`` and matching in
arrays -- and events shaped like Pipetrail's own (job run state changes, data access,
alarm state changes). Both matchers see the same parsed events; their answers are
compared, then each is timed and the ratio printed.

    python bench/event_patterns.py [--rules 1000] [--events 2000] [--seed 7] [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from typing import Any

import orjson

from pipetrail.events import RuleSet, compile_pattern, parse_event
from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.event import Event
from pipetrail.events.pattern import Pattern

SOURCES = {
    "pipetrail.jobs": ["Job Run State Change", "Job Run Status"],
    "pipetrail.data": ["Data Access"],
    "pipetrail.alarms": ["Alarm State Change"],
    "pipetrail.trail": ["API Call via Pipetrail"],
}
STATES = ["STARTING", "RUNNING", "STOPPING", "STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT",
          "ERROR"]
ALARM_STATES = ["OK", "ALARM", "INSUFFICIENT_DATA"]
TAGS = ["pii", "finance", "hr", "marketing", "raw", "curated", "gold", "restricted"]
PRINCIPALS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
OPERATIONS = ["read", "write", "delete"]
FORMATS = [".parquet", ".csv", ".json", ".orc"]


def _job(rng: random.Random) -> str:
    return f"job-{rng.randrange(200):03d}"


def _dataset(rng: random.Random) -> str:
    domain = rng.choice(TAGS)
    return (f"s3://bucket-{rng.randrange(20)}/{domain}/table-{rng.randrange(50)}/"
            f"part-{rng.randrange(1000):04d}{rng.choice(FORMATS)}")


def make_event(rng: random.Random) -> dict[str, Any]:
    source = rng.choice(list(SOURCES))
    detail: dict[str, Any]
    if source == "pipetrail.jobs":
        state = rng.choice(STATES)
        detail = {"jobName": _job(rng), "state": state, "attempt": rng.randrange(4),
                  "executionTime": round(rng.uniform(0, 7200), 3),
                  "host": f"worker-{rng.randrange(64):02d}.etl.example.com",
                  "tags": rng.sample(TAGS, rng.randrange(1, 4))}
        if state in ("FAILED", "ERROR"):
            detail["errorMessage"] = rng.choice(
                ["ZeroDivisionError: division by zero", "OutOfMemoryError: Java heap space",
                 "AnalysisException: column not found"])
            detail["exitCode"] = rng.choice([1, 2, 137])
    elif source == "pipetrail.data":
        detail = {"jobName": _job(rng), "dataset": _dataset(rng),
                  "operation": rng.choice(OPERATIONS), "rows": rng.randrange(10**7),
                  "bytes": rng.randrange(10**10),
                  "columns": [{"name": f"col_{i}", "pii": rng.random() < 0.1}
                              for i in range(rng.randrange(1, 6))],
                  "principal": rng.choice(PRINCIPALS).upper() if rng.random() < 0.3
                  else rng.choice(PRINCIPALS),
                  "sourceIPAddress": f"10.{rng.randrange(8)}.{rng.randrange(256)}."
                                     f"{rng.randrange(256)}"}
    elif source == "pipetrail.alarms":
        detail = {"alarmName": f"{_job(rng)}-{rng.choice(['errors', 'latency', 'memory'])}",
                  "state": {"value": rng.choice(ALARM_STATES)},
                  "previousState": {"value": rng.choice(ALARM_STATES)},
                  "threshold": rng.choice([1, 5, 90, 1000])}
    else:
        detail = {"eventName": rng.choice(["StartJobRun", "GetLogEvents", "PutMetricAlarm",
                                           "DeleteRule"]),
                  "userIdentity": {"userName": rng.choice(PRINCIPALS)},
                  "errorCode": rng.choice([None, "AccessDenied"])}
    envelope = EventEnvelope(
        source=source, detail_type=rng.choice(SOURCES[source]), detail=detail,
        account=f"team-{rng.randrange(20):02d}",
        resources=(f"arn:pipetrail:jobs:team:job/{_job(rng)}",),
    )
    return envelope.to_json()


def _condition(rng: random.Random, source: str) -> dict[str, Any]:
    """One or two detail conditions for a rule on ``source``, with a random operator."""
    if source == "pipetrail.jobs":
        choices: list[dict[str, Any]] = [
            {"state": rng.sample(STATES, rng.randrange(1, 3))},
            {"state": [{"anything-but": ["SUCCEEDED", "RUNNING", "STARTING"]}]},
            {"jobName": [_job(rng), _job(rng)]},
            {"jobName": [{"prefix": f"job-{rng.randrange(20):02d}"}]},
            {"executionTime": [{"numeric": [">", rng.choice([600, 1800, 3600])]}]},
            {"attempt": [{"numeric": [">=", 1, "<", 3]}]},
            {"errorMessage": [{"wildcard": rng.choice(["*OutOfMemory*", "Analysis*"])}]},
            {"errorMessage": [{"exists": False}], "state": ["SUCCEEDED"]},
            {"exitCode": [137]},
            {"host": [{"suffix": f"-{rng.randrange(64):02d}.etl.example.com"}]},
            {"tags": [rng.choice(TAGS)]},
        ]
    elif source == "pipetrail.data":
        choices = [
            {"dataset": [{"prefix": f"s3://bucket-{rng.randrange(20)}/"}]},
            {"dataset": [{"suffix": rng.choice(FORMATS)}]},
            {"dataset": [{"wildcard": f"s3://bucket-*/{rng.choice(TAGS)}/*"}]},
            {"operation": ["delete"]},
            {"operation": [{"anything-but": "read"}], "rows": [{"numeric": [">", 10**6]}]},
            {"principal": [{"equals-ignore-case": rng.choice(PRINCIPALS)}]},
            {"sourceIPAddress": [{"cidr": f"10.{rng.randrange(8)}.0.0/16"}]},
            {"columns": {"pii": [True]}},
            {"bytes": [{"numeric": [">=", rng.choice([10**8, 10**9])]}]},
        ]
    elif source == "pipetrail.alarms":
        choices = [
            {"state": {"value": ["ALARM"]}},
            {"state": {"value": ["ALARM"]}, "previousState": {"value": ["OK"]}},
            {"alarmName": [{"suffix": rng.choice(["-errors", "-memory"])}]},
            {"threshold": [{"numeric": ["<=", 5]}]},
        ]
    else:
        choices = [
            {"eventName": [rng.choice(["DeleteRule", "PutMetricAlarm"])]},
            {"errorCode": ["AccessDenied"]},
            {"userIdentity": {"userName": [{"anything-but": {"prefix": "a"}}]}},
        ]
    return rng.choice(choices)


def _resource(rng: random.Random, source: str) -> dict[str, Any]:
    """The condition that ties a rule to its owner's own jobs, data or alarms."""
    if source == "pipetrail.jobs":
        return {"jobName": [_job(rng) for _ in range(rng.randrange(1, 3))]}
    if source == "pipetrail.data":
        return {"dataset": [{"prefix": f"s3://bucket-{rng.randrange(20)}/{rng.choice(TAGS)}/"}]}
    if source == "pipetrail.alarms":
        return {"alarmName": [{"prefix": f"{_job(rng)}-"}]}
    return {"userIdentity": {"userName": [rng.choice(PRINCIPALS)]}}


def make_rule(rng: random.Random) -> dict[str, Any]:
    """Most rules belong to a team and name its resources; some are broad (audit, ops)."""
    source = rng.choice(list(SOURCES))
    rule: dict[str, Any] = {"source": [source]}
    if rng.random() < 0.6:
        rule["detail-type"] = [rng.choice(SOURCES[source])]
    detail: dict[str, Any] = {}
    if rng.random() < 0.9:
        if rng.random() < 0.8:
            rule["account"] = [f"team-{rng.randrange(20):02d}"]
        else:
            rule["account"] = [{"prefix": f"team-{rng.randrange(2)}"}]
        detail.update(_resource(rng, source))
    if rng.random() < 0.15:
        detail["$or"] = [_condition(rng, source), _condition(rng, source)]
    else:
        detail.update(_condition(rng, source))
    rule["detail"] = detail
    return rule


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    raw_rules = {f"rule-{i:04d}": make_rule(rng) for i in range(args.rules)}
    texts = [orjson.dumps(make_event(rng)) for _ in range(args.events)]

    started = time.perf_counter()
    patterns: dict[str, Pattern] = {name: compile_pattern(r) for name, r in raw_rules.items()}
    compile_seconds = time.perf_counter() - started
    rules = RuleSet(patterns)
    started = time.perf_counter()
    events: list[Event] = [parse_event(t) for t in texts]
    parse_seconds = time.perf_counter() - started
    for event in events:
        _ = event.leaves  # flatten once, outside both timings

    def naive(event: Event) -> list[str]:
        return [name for name, pattern in patterns.items() if pattern.matches(event)]

    started = time.perf_counter()
    rules.matching(events[0])  # builds the index
    index_seconds = time.perf_counter() - started

    naive_count = max(50, min(len(events), args.events // 10))
    naive_answers = [naive(e) for e in events[:naive_count]]
    indexed_answers = [rules.matching(e) for e in events]
    if indexed_answers[:naive_count] != naive_answers:
        sys.exit("the rule set and the loop over the rules disagree")

    # Best of several interleaved rounds, so that load from elsewhere on the machine
    # weighs on both sides alike.
    naive_seconds = indexed_seconds = float("inf")
    for _ in range(args.rounds):
        started = time.perf_counter()
        for event in events[:naive_count]:
            naive(event)
        naive_seconds = min(naive_seconds, time.perf_counter() - started)
        started = time.perf_counter()
        for event in events:
            rules.matching(event)
        indexed_seconds = min(indexed_seconds, time.perf_counter() - started)

    branches = sum(len(p.branches) for p in patterns.values())
    matched = sum(len(a) for a in indexed_answers)
    naive_rate = _rate(naive_count, naive_seconds)
    indexed_rate = _rate(len(events), indexed_seconds)
    print(f"event patterns: {len(patterns)} rules ({branches} branches), "
          f"{len(events)} events, Python {platform.python_version()}")
    print(f"  compile {len(patterns)} rules: {compile_seconds * 1000:.0f} ms; build index: "
          f"{index_seconds * 1000:.0f} ms; parse events: "
          f"{_rate(len(events), parse_seconds):,.0f} events/s")
    print(f"  matches per event: {matched / len(events):.2f} rules on average")
    print(f"  loop over rules (Pattern.matches each): {naive_rate:>12,.0f} events/s "
          f"({naive_count} events, best of {args.rounds})")
    print(f"  rule set (indexed):                     {indexed_rate:>12,.0f} events/s "
          f"({len(events)} events, best of {args.rounds})")
    print(f"  ratio rule set / loop: {indexed_rate / naive_rate:.1f}x")


if __name__ == "__main__":
    main()
