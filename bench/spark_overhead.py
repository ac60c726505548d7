"""Wall time of the example PySpark job under ``pipetrail run`` versus plain ``python``.

Both run in the same session, alternately (plain, monitored, plain, …) after one warm-up
of each, with 1-second sampling and all output captured. Monitored runs have what every
PySpark run under Pipetrail has: the event log switched on, call-site capture, and the
REST API polled every second. Prints the medians and the ratio (monitored / plain;
target ≤ 1.05).

    python bench/spark_overhead.py [--runs 3] [--script examples/spark_etl.py]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "orders.csv"


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--script", default=str(ROOT / "examples" / "spark_etl.py"))
    args = parser.parse_args()
    if not DATA.exists():
        subprocess.run([sys.executable, str(ROOT / "examples" / "make_orders.py"), str(DATA)],
                       check=True)
    with tempfile.TemporaryDirectory() as home:
        out = Path(home) / "out"
        env = {**os.environ, "PIPETRAIL_HOME": home, "PIPETRAIL_SAMPLE_INTERVAL": "1"}
        env.pop("PIPETRAIL_DATABASE_URL", None)
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        plain = [sys.executable, args.script, str(DATA), str(out)]
        monitored = [sys.executable, "-m", "pipetrail.cli", "run", "-q", args.script, "--",
                     str(DATA), str(out)]
        timed(plain, env)
        timed(monitored, env)
        plain_times, monitored_times, ratios = [], [], []
        for _ in range(args.runs):
            a = timed(plain, env)
            b = timed(monitored, env)
            plain_times.append(a)
            monitored_times.append(b)
            ratios.append(b / a)
        event_logs = len(list((Path(home) / "spark-events").iterdir()))
    plain_median = statistics.median(plain_times)
    monitored_median = statistics.median(monitored_times)
    print(f"job: {Path(args.script).name}, {args.runs} runs each, alternating, 1 s sampling, "
          f"{event_logs} event logs written by the monitored runs")
    print(f"plain python      median {plain_median:.3f} s  "
          f"(min {min(plain_times):.3f}, max {max(plain_times):.3f})")
    print(f"pipetrail run     median {monitored_median:.3f} s  "
          f"(min {min(monitored_times):.3f}, max {max(monitored_times):.3f})")
    print(f"ratio (monitored/plain): median of pairs {statistics.median(ratios):.3f}, "
          f"of medians {monitored_median / plain_median:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
