"""Access control: IAM-style policies, their evaluation and simulation.

Read a policy once with :func:`parse_policy`, then decide requests with
:func:`evaluate`::

    policy = parse_policy(text)
    result = evaluate([policy], AccessRequest("jobs:GetJobRun", run_arn, {...}))
    result.decision  # Decision.ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY
"""

from pipetrail.access.evaluate import (
    AccessRequest,
    Decision,
    EvaluationResult,
    PolicySet,
    StatementMatch,
    evaluate,
    missing_context_keys,
)
from pipetrail.access.policy import Effect, Policy, Statement, parse_policy

__all__ = [
    "AccessRequest",
    "Decision",
    "Effect",
    "EvaluationResult",
    "Policy",
    "PolicySet",
    "Statement",
    "StatementMatch",
    "evaluate",
    "missing_context_keys",
    "parse_policy",
]
