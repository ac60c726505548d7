"""Statistics, alarm evaluation and band training, as ratios against baselines of this run.

Run: ``python bench/alarms.py``. Each figure is (time of Pipetrail's code) / (time of a
bare baseline doing the unavoidable part of the same work in plain Python), so it says how
much the semantics cost on top of the minimum, whatever the machine.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

from pipetrail.alarms.anomaly import train
from pipetrail.alarms.definition import MetricAlarm
from pipetrail.alarms.evaluate import evaluate, slot_starts
from pipetrail.alarms.state import AlarmState
from pipetrail.metrics.statistics import get_statistics
from pipetrail.model.metrics import MetricDatum

START = 1_795_000_000_000 - 1_795_000_000_000 % 86_400_000
MINUTE = 60_000


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def bench_statistics() -> tuple[float, float]:
    rng = random.Random(1)
    datums = [
        MetricDatum("Pipetrail/Jobs", "elapsedTime", START + rng.randrange(86_400_000),
                    rng.expovariate(0.01), "Milliseconds")
        for _ in range(200_000)
    ]
    names = ["SampleCount", "Average", "Maximum", "p99", "IQM"]

    def ours() -> object:
        return get_statistics(datums, start=START, end=START + 86_400_000, period=60,
                              statistics=names)

    def baseline() -> object:
        groups: dict[int, list[float]] = defaultdict(list)
        for d in datums:
            groups[(d.timestamp - START) // MINUTE].append(d.value)
        return [sorted(values) for values in groups.values()]

    return best_of(ours), best_of(baseline)


def bench_evaluation() -> tuple[float, float]:
    alarm = MetricAlarm(name="a", namespace="n", metric_name="m", period=60,
                        evaluation_periods=5, datapoints_to_alarm=3,
                        comparison_operator="GreaterThanThreshold", threshold=50.0,
                        statistic="Average", treat_missing_data="breaching")
    alarm.validate()
    rng = random.Random(2)
    now = START + 10 * MINUTE + 5_000
    starts = slot_starts(alarm, now)
    cases = [{ts: rng.uniform(0, 100) for ts in starts if rng.random() < 0.7}
             for _ in range(2_000)]
    previous = AlarmState.initial(0)

    def ours() -> object:
        return [evaluate(alarm, points, previous, now) for points in cases]

    def baseline() -> object:
        return [sum(1 for v in points.values() if v > 50.0) >= 3 for points in cases]

    return best_of(ours), best_of(baseline)


def bench_training() -> tuple[float, float]:
    rng = random.Random(3)
    history = {START + i * 5 * MINUTE: 100 + rng.gauss(0, 5) for i in range(14 * 288)}

    def ours() -> object:
        return train(history)

    def baseline() -> object:
        return statistics.median(history.values())

    return best_of(ours), best_of(baseline)


def main() -> None:
    for label, (ours, baseline) in [
        ("statistics: 200k datums, 1440 periods, 5 statistics vs group+sort", bench_statistics()),
        ("evaluate: 2000 evaluations of a 3-of-5 alarm vs counting breaches", bench_evaluation()),
        ("anomaly band: train on 14 days at 5 min vs one median", bench_training()),
    ]:
        print(f"{label}: {ours / baseline:.1f}x baseline "
              f"({ours * 1000:.1f} ms vs {baseline * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
