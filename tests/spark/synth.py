"""Small Spark event logs written event by event, in the JSON shapes Spark writes.

Tests describe stages as lists of :class:`Task` and get a log that Pipetrail reads like a
real one. Field names and nesting follow Spark 4's ``JsonProtocol`` (compare with the
corpus logs); only the figures are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

T0 = 1_795_000_000_000


@dataclass
class Task:
    duration: int
    executor: str = "1"
    run: int | None = None
    gc: int = 0
    input_bytes: int = 0
    shuffle_read: int = 0
    shuffle_write: int = 0
    memory_spill: int = 0
    disk_spill: int = 0
    fetch_wait: int = 0
    reason: str = "Success"
    started: bool = True
    index: int | None = None
    accums: tuple[tuple[int, int], ...] = ()


def task_metrics(t: Task) -> dict[str, Any]:
    return {
        "Executor Deserialize Time": 2, "Executor Deserialize CPU Time": 1_000_000,
        "Executor Run Time": t.run if t.run is not None else max(t.duration - 5, 0),
        "Executor CPU Time": 1_000_000, "Peak Execution Memory": 0,
        "Peak On Heap Execution Memory": 0, "Peak Off Heap Execution Memory": 0,
        "Result Size": 1000, "JVM GC Time": t.gc, "Result Serialization Time": 0,
        "Memory Bytes Spilled": t.memory_spill, "Disk Bytes Spilled": t.disk_spill,
        "Shuffle Read Metrics": {
            "Remote Blocks Fetched": 0, "Local Blocks Fetched": 1 if t.shuffle_read else 0,
            "Fetch Wait Time": t.fetch_wait, "Remote Bytes Read": 0,
            "Remote Bytes Read To Disk": 0, "Local Bytes Read": t.shuffle_read,
            "Total Records Read": t.shuffle_read // 100, "Remote Requests Duration": 0,
            "Push Based Shuffle": {
                "Corrupt Merged Block Chunks": 0, "Merged Fetch Fallback Count": 0,
                "Merged Remote Blocks Fetched": 0, "Merged Local Blocks Fetched": 0,
                "Merged Remote Chunks Fetched": 0, "Merged Local Chunks Fetched": 0,
                "Merged Remote Bytes Read": 0, "Merged Local Bytes Read": 0,
                "Merged Remote Requests Duration": 0}},
        "Shuffle Write Metrics": {"Shuffle Bytes Written": t.shuffle_write,
                                  "Shuffle Write Time": 1000,
                                  "Shuffle Records Written": t.shuffle_write // 100},
        "Input Metrics": {"Bytes Read": t.input_bytes, "Records Read": t.input_bytes // 100},
        "Output Metrics": {"Bytes Written": 0, "Records Written": 0},
        "Updated Blocks": [],
    }


def end_reason(reason: str) -> dict[str, Any]:
    if reason == "ExceptionFailure":
        return {"Reason": reason, "Class Name": "java.lang.ArithmeticException",
                "Description": "/ by zero", "Stack Trace": [], "Full Stack Trace": "",
                "Accumulator Updates": []}
    if reason == "TaskKilled":
        return {"Reason": reason, "Kill Reason": "another attempt succeeded",
                "Accumulator Updates": []}
    if reason == "FetchFailed":
        return {"Reason": reason,
                "Block Manager Address": {"Executor ID": "2", "Host": "h", "Port": 7337},
                "Shuffle ID": 0, "Map ID": 0, "Map Index": 0, "Reduce ID": 0,
                "Message": "Failed to fetch shuffle block"}
    if reason == "ExecutorLostFailure":
        return {"Reason": reason, "Executor ID": "1", "Exit Caused By App": True,
                "Loss Reason": "Container killed for exceeding memory limits"}
    return {"Reason": reason}


class EventLog:
    """An application's events, appended in time order."""

    def __init__(self, app_id: str = "app-20261101000000-0001", name: str = "synthetic",
                 properties: dict[str, str] | None = None) -> None:
        self.app_id = app_id
        self.now = T0
        self.events: list[dict[str, Any]] = [
            {"Event": "SparkListenerLogStart", "Spark Version": "4.3.0"},
            {"Event": "SparkListenerEnvironmentUpdate",
             "JVM Information": {"Java Version": "17"},
             "Spark Properties": {"spark.app.name": name, **(properties or {})},
             "Hadoop Properties": {}, "System Properties": {}, "Metrics Properties": {},
             "Classpath Entries": {}},
            {"Event": "SparkListenerApplicationStart", "App Name": name, "App ID": app_id,
             "Timestamp": T0, "User": "etl"},
        ]
        self.next_task = 0
        self.next_job = 0
        self.next_stage = 0

    def executor(self, executor_id: str, cores: int = 4, host: str | None = None) -> None:
        host = host or f"10.0.0.{len(self.events)}"
        self.events.append({
            "Event": "SparkListenerExecutorAdded", "Timestamp": self.now,
            "Executor ID": executor_id,
            "Executor Info": {"Host": host, "Total Cores": cores, "Log Urls": {},
                              "Attributes": {}, "Resources": {}, "Resource Profile Id": 0}})
        self.events.append({
            "Event": "SparkListenerBlockManagerAdded",
            "Block Manager ID": {"Executor ID": executor_id, "Host": host, "Port": 40000},
            "Maximum Memory": 1 << 30, "Timestamp": self.now,
            "Maximum Onheap Memory": 1 << 30, "Maximum Offheap Memory": 0})

    def remove_executor(self, executor_id: str, reason: str = "lost") -> None:
        self.events.append({"Event": "SparkListenerExecutorRemoved", "Timestamp": self.now,
                            "Executor ID": executor_id, "Removed Reason": reason})

    def idle(self, ms: int) -> None:
        self.now += ms

    @staticmethod
    def _stage_info(stage_id: int, tasks: int, attempt: int = 0, **extra: Any) -> dict[str, Any]:
        return {"Stage ID": stage_id, "Stage Attempt ID": attempt,
                "Stage Name": f"stage {stage_id}", "Number of Tasks": tasks,
                "RDD Info": [], "Parent IDs": [], "Details": "synthetic", "Accumulables": [],
                "Resource Profile Id": 0, "Shuffle Push Enabled": False,
                "Shuffle Push Mergers Count": 0, **extra}

    def job(self, stages: list[list[Task]], *, failed: bool = False,
            skipped: list[int] | None = None, attempts: dict[int, int] | None = None,
            sql_execution: int | None = None) -> tuple[int, list[int]]:
        """Run one job whose stages run one after the other; returns (job id, stage ids)."""
        job_id = self.next_job
        self.next_job += 1
        ids = list(range(self.next_stage, self.next_stage + len(stages)))
        self.next_stage += len(stages)
        skipped_ids = [self.next_stage + i for i in range(len(skipped or []))]
        self.next_stage += len(skipped_ids)
        props = {} if sql_execution is None else {"spark.sql.execution.id": str(sql_execution)}
        infos = [self._stage_info(i, len(t)) for i, t in zip(ids, stages, strict=True)]
        infos += [self._stage_info(i, n) for i, n in zip(skipped_ids, skipped or [], strict=True)]
        self.events.append({"Event": "SparkListenerJobStart", "Job ID": job_id,
                            "Submission Time": self.now, "Stage Infos": infos,
                            "Stage IDs": ids + skipped_ids, "Properties": props})
        for stage_id, tasks in zip(ids, stages, strict=True):
            attempt = (attempts or {}).get(stage_id, 0)
            self._stage(stage_id, tasks, attempt)
        result = ({"Result": "JobFailed", "Exception": {"Message": "stage failed"}}
                  if failed else {"Result": "JobSucceeded"})
        self.events.append({"Event": "SparkListenerJobEnd", "Job ID": job_id,
                            "Completion Time": self.now, "Job Result": result})
        return job_id, ids

    def _stage(self, stage_id: int, tasks: list[Task], attempt: int) -> None:
        start = self.now
        info = self._stage_info(stage_id, len(tasks), attempt, **{"Submission Time": start})
        self.events.append({"Event": "SparkListenerStageSubmitted", "Stage Info": info,
                            "Properties": {}})
        ends = []
        for n, task in enumerate(tasks):
            task_id = self.next_task
            self.next_task += 1
            index = n if task.index is None else task.index
            launch = start + 1
            finish = launch + task.duration
            ends.append(finish)
            ti = {"Task ID": task_id, "Index": index, "Attempt": 0, "Partition ID": index,
                  "Launch Time": launch, "Executor ID": task.executor, "Host": "h",
                  "Locality": "PROCESS_LOCAL", "Speculative": False, "Getting Result Time": 0,
                  "Finish Time": 0, "Failed": False, "Killed": False, "Accumulables": []}
            if task.started:
                self.events.append({"Event": "SparkListenerTaskStart", "Stage ID": stage_id,
                                    "Stage Attempt ID": attempt, "Task Info": dict(ti)})
            ti.update({"Finish Time": finish, "Failed": task.reason not in (
                "Success", "TaskKilled"), "Killed": task.reason == "TaskKilled",
                "Accumulables": [{"ID": acc_id, "Name": "m", "Update": str(value),
                                  "Value": str(value), "Internal": True,
                                  "Count Failed Values": True, "Metadata": "sql"}
                                 for acc_id, value in task.accums]})
            self.events.append({
                "Event": "SparkListenerTaskEnd", "Stage ID": stage_id,
                "Stage Attempt ID": attempt, "Task Type": "ResultTask",
                "Task End Reason": end_reason(task.reason), "Task Info": ti,
                "Task Executor Metrics": {"JVMHeapMemory": 100 + n, "TotalGCTime": task.gc},
                "Task Metrics": task_metrics(task)})
        self.now = max(ends, default=start) + 1
        done = dict(info)
        done["Completion Time"] = self.now
        self.events.append({"Event": "SparkListenerStageCompleted", "Stage Info": done})

    def sql_start(self, execution_id: int, plan: dict[str, Any],
                  description: str = "query") -> None:
        self.events.append({
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": execution_id, "rootExecutionId": execution_id,
            "description": description, "details": "", "physicalPlanDescription": "",
            "sparkPlanInfo": plan, "time": self.now, "modifiedConfigs": {}})

    def sql_end(self, execution_id: int, error: str = "") -> None:
        self.events.append({
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
            "executionId": execution_id, "time": self.now, "errorMessage": error})

    def driver_accums(self, execution_id: int, updates: list[tuple[int, int]]) -> None:
        self.events.append({
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerDriverAccumUpdates",
            "executionId": execution_id, "accumUpdates": [list(u) for u in updates]})

    def fail_stage(self, stage_id: int, reason: str = "Job aborted") -> None:
        """Turn the last completion of ``stage_id`` into a failure."""
        for event in reversed(self.events):
            if (event["Event"] == "SparkListenerStageCompleted"
                    and event["Stage Info"]["Stage ID"] == stage_id):
                event["Stage Info"]["Failure Reason"] = reason
                return

    def end(self) -> None:
        self.events.append({"Event": "SparkListenerApplicationEnd", "Timestamp": self.now,
                            "ExitCode": 0})

    def lines(self) -> bytes:
        return b"".join(orjson.dumps(e) + b"\n" for e in self.events)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.lines())
        return path
