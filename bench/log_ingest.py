"""Ingest rate: a job printing log lines as fast as it can, under ``pipetrail run``.

The baseline, measured in the same session, is the same job writing the same lines to a
file (``python job.py N > file``). Under ``pipetrail run`` every line is echoed to the
terminal (here /dev/null), passes the ingest pipeline (redaction, metric filters, and
with ``--quiet-logs`` the noise filter) and is stored; in the last variant a metric
filter matches every line, so each line also stores a metric datum. The run ends only
when every line is in the store, so the wall time covers ingest. The fixed cost of a run
(start-up and shutdown, measured with a job printing one line) is reported and taken out
for the net rate.

    python bench/log_ingest.py [--lines 200000] [--repeat 3] [--database-url URL]
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

JOB = """
import sys
for i in range(int(sys.argv[1])):
    print(f"2026-11-25 10:00:00 INFO etl.orders: processed row {i} of batch 42 in 3 ms")
"""


def timed(command: list[str], env: dict[str, str], stdout: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=stdout, stderr=subprocess.DEVNULL, env=env,  # type: ignore[arg-type]
                   check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None,
                        help="a postgresql:// URL (default: SQLite in a temporary home)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        job = work / "job.py"
        job.write_text(JOB)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env["PIPETRAIL_HOME"] = str(work / "home")
        if args.database_url:
            env["PIPETRAIL_DATABASE_URL"] = args.database_url
        run = [sys.executable, "-m", "pipetrail.cli", "run", "-q"]
        # A filter every line matches: one metric datum stored per line (the worst case).
        put_filter = [sys.executable, "-m", "pipetrail.cli", "logs", "put-metric-filter",
                      "/pipetrail/jobs/output", "--name", "rows", "--pattern", "processed",
                      "--metric-name", "Rows", "--namespace", "Bench", "--value", "1"]
        variants = {
            "pipetrail run": [],
            "pipetrail run --quiet-logs": ["--quiet-logs"],
        }
        file = work / "out.log"
        timed([*run, str(job), "1"], env, subprocess.DEVNULL)  # warm-up, creates the store
        fixed = statistics.median(timed([*run, str(job), "1"], env, subprocess.DEVNULL)
                                  for _ in range(args.repeat))
        plain: list[float] = []
        results: dict[str, list[float]] = {name: [] for name in variants}
        results["+ a metric filter on every line"] = []
        for _ in range(args.repeat):
            with file.open("w") as out:
                plain.append(timed([sys.executable, str(job), str(args.lines)], env, out))
            for name, flags in variants.items():
                results[name].append(timed([*run, *flags, str(job), str(args.lines)], env,
                                           subprocess.DEVNULL))
        subprocess.run(put_filter, env=env, check=True, stdout=subprocess.DEVNULL)
        for _ in range(args.repeat):
            results["+ a metric filter on every line"].append(
                timed([*run, str(job), str(args.lines)], env, subprocess.DEVNULL))
    backend = "PostgreSQL" if args.database_url else "SQLite"
    base = statistics.median(plain)
    base_rate = args.lines / base
    print(f"{args.lines} lines of 77 bytes, median of {args.repeat}; store: {backend}")
    print(f"{'python job.py > file (baseline)':<36} {base:7.2f} s  {base_rate:>10,.0f} lines/s")
    print(f"{'fixed cost of a run (1 line)':<36} {fixed:7.2f} s")
    for name, times in results.items():
        wall = statistics.median(times)
        net = max(wall - fixed, 1e-6)
        print(f"{name:<36} {wall:7.2f} s  {args.lines / wall:>10,.0f} lines/s"
              f"  (net of the fixed cost {args.lines / net:>9,.0f} lines/s)"
              f"  ratio to the file: {base / wall:.2f} (net {base / net:.2f})")


if __name__ == "__main__":
    main()
