"""Per-stage task statistics: duration quantiles, skew, the slowest tasks.

While a stage runs, :class:`TaskStats` keeps one integer per ended task in typed arrays
(8 bytes a task, freed when the stage is done) and the few slowest tasks in a small heap;
:meth:`TaskStats.summary` turns them into fixed-size figures. Duration quantiles follow
the History Server's ``taskSummary``: the quantile ``q`` of ``n`` measured tasks is the
value at position ``min(int(q * n), n - 1)`` of the sorted durations, where ``n`` counts
the successful tasks that reported metrics and the sorted list holds every ended task.
"""

from __future__ import annotations

import heapq
from array import array
from typing import Any

#: The quantiles the Spark UI and REST API show by default.
QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
SLOWEST_KEPT = 10


def quantiles(values: list[int] | array[int], count: int,
              qs: tuple[float, ...] = QUANTILES) -> list[float]:
    """Spark's quantile positions over ``values`` (sorted here) for ``count`` tasks."""
    if count <= 0 or not values:
        return []
    ordered = sorted(values)
    last = len(ordered) - 1
    return [float(ordered[min(min(int(q * count), count - 1), last)]) for q in qs]


class TaskStats:
    """Streaming per-stage task figures with memory bounded by the stage's task count."""

    __slots__ = ("_bytes", "_durations", "_ok_durations", "_slowest", "measured")

    def __init__(self) -> None:
        self._durations: array[int] = array("q")
        self._ok_durations: array[int] = array("q")
        self._bytes: array[int] = array("q")
        self._slowest: list[tuple[int, int, int, str, int]] = []
        self.measured = 0

    def add(self, duration: int, success: bool, measured: bool, task_id: int, index: int,
            executor_id: str, data_bytes: int) -> None:
        """Record an ended task (``measured``: successful and reported metrics)."""
        if duration >= 0:
            self._durations.append(duration)
        if not measured:
            return
        self.measured += 1
        self._ok_durations.append(duration)
        self._bytes.append(data_bytes)
        item = (duration, task_id, index, executor_id, data_bytes)
        if len(self._slowest) < SLOWEST_KEPT:
            heapq.heappush(self._slowest, item)
        elif duration > self._slowest[0][0]:
            heapq.heapreplace(self._slowest, item)

    def summary(self) -> dict[str, Any]:
        """Fixed-size figures (camelCase, JSON-ready)."""
        n = self.measured
        duration_q = quantiles(self._durations, n)
        ok_q = quantiles(self._ok_durations, n)
        bytes_q = quantiles(self._bytes, n)
        return {
            "count": n,
            "quantiles": list(QUANTILES),
            "duration": duration_q,
            "bytesProcessed": bytes_q,
            "skewRatio": _ratio(ok_q),
            "dataSkewRatio": _ratio(bytes_q),
            "slowestTasks": [
                {"taskId": t, "index": i, "executorId": e, "duration": d, "bytesProcessed": b}
                for d, t, i, e, b in sorted(self._slowest, reverse=True)
            ],
        }


def _ratio(qs: list[float]) -> float | None:
    """Max over median; ``None`` when there is no median to divide by."""
    if len(qs) != len(QUANTILES):
        return None
    median, top = qs[2], qs[4]
    if median <= 0:
        return None
    return round(top / median, 3)
