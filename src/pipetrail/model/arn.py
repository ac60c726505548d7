"""Resource names: ``arn:pipetrail:<service>:<workspace>:<type>/<id>``."""

from __future__ import annotations


def job_arn(workspace: str, job_name: str) -> str:
    return f"arn:pipetrail:jobs:{workspace}:job/{job_name}"


def run_arn(workspace: str, job_name: str, run_id: str) -> str:
    return f"arn:pipetrail:jobs:{workspace}:job/{job_name}/run/{run_id}"


def log_stream_arn(workspace: str, group: str, stream: str) -> str:
    return f"arn:pipetrail:logs:{workspace}:log-group:{group}:log-stream:{stream}"


def metric_arn(workspace: str, namespace: str, name: str) -> str:
    return f"arn:pipetrail:metrics:{workspace}:metric/{namespace}/{name}"


def trail_arn(workspace: str, trail: str = "default") -> str:
    return f"arn:pipetrail:trail:{workspace}:trail/{trail}"


def alarm_arn(workspace: str, alarm_name: str) -> str:
    return f"arn:pipetrail:alarms:{workspace}:alarm/{alarm_name}"


def rule_arn(workspace: str, name: str) -> str:
    return f"arn:pipetrail:events:{workspace}:rule/{name}"


def target_arn(workspace: str, name: str) -> str:
    return f"arn:pipetrail:events:{workspace}:target/{name}"


def event_bus_arn(workspace: str, bus: str = "default") -> str:
    return f"arn:pipetrail:events:{workspace}:event-bus/{bus}"


def log_group_arn(workspace: str, group: str) -> str:
    return f"arn:pipetrail:logs:{workspace}:log-group:{group}"


def principal_arn(workspace: str, kind: str, name: str) -> str:
    """``arn:pipetrail:iam:<workspace>:user/<name>`` (``role/``, ``service-account/``)."""
    return f"arn:pipetrail:iam:{workspace}:{kind}/{name}"


def policy_arn(workspace: str, name: str) -> str:
    return f"arn:pipetrail:iam:{workspace}:policy/{name}"
