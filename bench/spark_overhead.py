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
import sys
import tempfile
from pathlib import Path

from paired import ROOT, compare, ensure_orders


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--script", default=str(ROOT / "examples" / "spark_etl.py"))
    args = parser.parse_args()
    data = ensure_orders()
    with tempfile.TemporaryDirectory() as home:
        out = Path(home) / "out"
        env = {**os.environ, "PIPETRAIL_HOME": home, "PIPETRAIL_SAMPLE_INTERVAL": "1"}
        env.pop("PIPETRAIL_DATABASE_URL", None)
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        result = compare([sys.executable, args.script, str(data), str(out)],
                         [sys.executable, "-m", "pipetrail.cli", "run", "-q", args.script,
                          "--", str(data), str(out)], env, args.runs)
        event_logs = len(list((Path(home) / "spark-events").iterdir()))
    print(f"job: {Path(args.script).name}, {args.runs} runs each, alternating, 1 s sampling, "
          f"{event_logs} event logs written by the monitored runs")
    result.report(target=1.05)


if __name__ == "__main__":
    main()
