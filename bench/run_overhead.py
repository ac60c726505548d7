"""Wall time of the example ETL job under ``pipetrail run`` versus plain ``python``.

Both run in the same session, alternately (plain, monitored, plain, …) after a warm-up,
with 1-second sampling and all output captured. Prints the medians and the ratio
(monitored / plain; target ≤ 1.03).

    python bench/run_overhead.py [--runs 5] [--script examples/etl_orders.py]
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--script", default=str(ROOT / "examples" / "etl_orders.py"))
    args = parser.parse_args()
    ensure_orders()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PIPETRAIL_HOME": home, "PIPETRAIL_SAMPLE_INTERVAL": "1"}
        env.pop("PIPETRAIL_DATABASE_URL", None)
        result = compare([sys.executable, args.script],
                         [sys.executable, "-m", "pipetrail.cli", "run", "-q", args.script],
                         env, args.runs)
    print(f"job: {Path(args.script).name}, {args.runs} runs each, alternating, 1 s sampling")
    result.report(target=1.03)


if __name__ == "__main__":
    main()
