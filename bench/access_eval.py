"""Cost of deciding one request under compiled policies, against two baselines.

A team-sized policy set (4 policies, 24 statements, with wildcards, a policy variable,
IP, Bool, Date and set-operator conditions) decides a mix of requests. Measured in the
same run:

* ``compiled``: a :class:`PolicySet` of policies parsed once, kept across requests
  (what the server does);
* ``new PolicySet each``: policies parsed once, ``evaluate(list, …)`` per request;
* ``reparse``: parsing the policy JSON again for every request, then evaluating;
* ``audit record``: ``orjson.dumps`` of one CloudTrail-shaped audit event, work every
  API call already pays to be recorded in the trail.

Prints microseconds per request and the ratios. ``python bench/access_eval.py [--n 20000]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from pipetrail.access import AccessRequest, PolicySet, evaluate, parse_policy

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def team_policies() -> list[str]:
    engineers = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadJobs", "Effect": "Allow", "Action": ["jobs:Get*", "jobs:List*"],
         "Resource": "arn:pipetrail:jobs:team:job/*"},
        {"Sid": "RunOwn", "Effect": "Allow", "Action": ["jobs:StartJobRun", "jobs:StopJobRun"],
         "Resource": "arn:pipetrail:jobs:team:job/${pipetrail:username}-*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:Get*", "logs:FilterLogEvents",
                                                      "logs:StartLiveTail"],
         "Resource": "arn:pipetrail:logs:team:log-group:/pipetrail/jobs/*"},
        {"Sid": "Metrics", "Effect": "Allow", "Action": "metrics:*",
         "Resource": "arn:pipetrail:metrics:team:metric/Pipetrail/*"},
    ] + [
        {"Sid": f"Dataset{n}", "Effect": "Allow", "Action": ["data:ReadDataset"],
         "Resource": f"arn:pipetrail:data:team:dataset/area{n}/*",
         "Condition": {"StringEquals": {"pipetrail:PrincipalTag/area": f"area{n}"}}}
        for n in range(8)
    ]}
    guards = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Office", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"pipetrail:SourceIp": ["10.0.0.0/8", "192.168.0.0/16",
                                                               "2001:db8::/32"]}}},
        {"Sid": "Tls", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"pipetrail:SecureTransport": "false"}}},
        {"Sid": "Freeze", "Effect": "Deny", "Action": ["jobs:Update*", "jobs:Delete*"],
         "Resource": "*",
         "Condition": {"DateGreaterThan": {"pipetrail:CurrentTime": "2026-12-20T00:00:00Z"},
                       "DateLessThan": {"pipetrail:CurrentTime": "2027-01-05T00:00:00Z"}}},
        {"Sid": "NoPatients", "Effect": "Deny", "Action": "data:*",
         "Resource": "arn:pipetrail:data:team:dataset/*/patients*",
         "Condition": {"StringNotEqualsIfExists": {"pipetrail:PrincipalTag/clearance": "hipaa"}}},
    ]}
    trail = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Lookup", "Effect": "Allow", "Action": ["trail:LookupEvents", "trail:Get*"],
         "Resource": "arn:pipetrail:trail:team:trail/*",
         "Condition": {"ForAnyValue:StringEquals": {"pipetrail:PrincipalTag/groups": [
             "security", "compliance"]}}},
        {"Sid": "Validate", "Effect": "Allow", "Action": "trail:Validate*", "Resource": "*"},
    ]}
    admins = {"Version": "2012-10-17", "Statement": [
        {"Sid": f"Admin{n}", "Effect": "Allow", "NotAction": ["iam:*", "trail:Delete*"],
         "Resource": f"arn:pipetrail:*:team{n}:*"} for n in range(6)
    ]}
    return [json.dumps(p) for p in (engineers, guards, trail, admins)]


def team_requests() -> list[AccessRequest]:
    base = {"pipetrail:username": "ana", "pipetrail:SourceIp": "10.2.3.4",
            "pipetrail:SecureTransport": "true", "pipetrail:PrincipalTag/area": "area3",
            "pipetrail:PrincipalTag/groups": ["data", "security"]}
    return [
        AccessRequest("jobs:GetJobRun", "arn:pipetrail:jobs:team:job/nightly/run/jr_1", base),
        AccessRequest("jobs:StartJobRun", "arn:pipetrail:jobs:team:job/ana-etl", base),
        AccessRequest("logs:GetLogEvents",
                      "arn:pipetrail:logs:team:log-group:/pipetrail/jobs/output:log-stream:jr_1",
                      base),
        AccessRequest("data:ReadDataset", "arn:pipetrail:data:team:dataset/area3/orders", base),
        AccessRequest("data:ReadDataset", "arn:pipetrail:data:team:dataset/area3/patients",
                      base),
        AccessRequest("trail:LookupEvents", "arn:pipetrail:trail:team:trail/default", base),
        AccessRequest("jobs:DeleteJob", "arn:pipetrail:jobs:team:job/x",
                      {**base, "pipetrail:SourceIp": "203.0.113.9"}),
        AccessRequest("iam:CreateUser", "*", base),
    ]


def per_call(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call of ``fn`` over ``n`` calls."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - started) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="requests per timing loop")
    args = parser.parse_args()
    texts = team_policies()
    policies = [parse_policy(t) for t in texts]
    requests = team_requests()
    statements = sum(len(p.statements) for p in policies)
    decisions = [str(evaluate(policies, r, now=NOW).decision) for r in requests]
    event = {"eventVersion": "1.09", "eventID": "6f1c6c2e-5b0f-4f55-9a53-1f0b2a4d1c11",
             "eventTime": "2026-11-25T12:00:00Z", "eventSource": "jobs.pipetrail",
             "eventName": "GetJobRun", "eventType": "ApiCall", "eventCategory": "Management",
             "readOnly": True, "userIdentity": {"type": "User", "principalId": "1001",
                                                "arn": "arn:pipetrail:iam::team:user/ana",
                                                "accountId": "team", "userName": "ana"},
             "sourceIPAddress": "10.2.3.4", "userAgent": "pipetrail-cli/0.1.0",
             "requestParameters": {"jobName": "nightly", "runId": "jr_1"},
             "resources": [{"type": "Job", "ARN": requests[0].resource}],
             "requestID": "0b0e3c8a", "recipientAccountId": "team"}

    next_request = itertools.cycle(requests).__next__
    policy_set = PolicySet(policies)
    compiled = per_call(lambda: policy_set.evaluate(next_request(), now=NOW), args.n)
    unindexed = per_call(lambda: evaluate(policies, next_request(), now=NOW), args.n)
    reparse = per_call(lambda: evaluate([parse_policy(t) for t in texts], next_request(),
                                        now=NOW), max(args.n // 20, 100))
    record = per_call(lambda: orjson.dumps(event), args.n)
    print(f"policy set: {len(policies)} policies, {statements} statements; "
          f"{len(requests)} requests in turn: {', '.join(decisions)}")
    print(f"compiled evaluate     {compiled * 1e6:8.1f} us/request")
    print(f"new PolicySet each    {unindexed * 1e6:8.1f} us/request  "
          f"(keeping the PolicySet is {unindexed / compiled:.1f}x faster)")
    print(f"reparse + evaluate    {reparse * 1e6:8.1f} us/request  "
          f"(compiled is {reparse / compiled:.0f}x faster)")
    print(f"audit record (orjson) {record * 1e6:8.1f} us/request  "
          f"(compiled evaluate costs {compiled / record:.1f}x one audit record)")


if __name__ == "__main__":
    main()
