"""Latency from a ``print`` in a job to the line appearing in ``pipetrail logs tail --follow``.

The job prints a timestamp (``time.time_ns()``) per line at a steady pace; a real
``pipetrail logs tail RUN --follow --raw`` process reads the run, and this script
records when each line arrives on the tail's stdout. Latency = arrival - print time,
both from the same clock. The baseline, measured in the same session, is the same job
run with plain ``python`` and its stdout read straight from a pipe (what a print costs
to reach a reader at all). Prints p50/p90/p99/max and the ratios to the baseline.

    python bench/tail_latency.py [--lines 400] [--interval 0.01] [--database-url URL]

Targets (from the issue): p50 <= 50 ms, p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

JOB = """
import os, sys, time
ready, gate, lines, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with open(ready, "w") as f:
    f.write(os.environ.get("PIPETRAIL_RUN_ID", "plain"))
while not os.path.exists(gate):
    print("warm-up", time.time_ns(), flush=True)
    time.sleep(0.05)
for i in range(lines):
    print("t", time.time_ns(), flush=True)
    time.sleep(interval)
"""


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def read_latencies(stream: object, gate: Path, out: list[float]) -> None:
    """Read ``t <ns>`` lines; open the gate at the first warm-up line."""
    for line in stream:  # type: ignore[attr-defined]
        arrived = time.time_ns()
        parts = line.split()
        if len(parts) != 2:
            continue
        if parts[0] == "warm-up":
            gate.touch()
        elif parts[0] == "t":
            out.append((arrived - int(parts[1])) / 1e6)


def wait_for(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.01)
    raise SystemExit(f"the job did not start within {timeout} s")


def measure_plain(work: Path, env: dict[str, str], lines: int, interval: float) -> list[float]:
    ready, gate = work / "plain.ready", work / "plain.gate"
    proc = subprocess.Popen([sys.executable, str(work / "job.py"), str(ready), str(gate),
                             str(lines), str(interval)], stdout=subprocess.PIPE, text=True,
                            env=env)
    latencies: list[float] = []
    read_latencies(proc.stdout, gate, latencies)
    proc.wait()
    return latencies


def measure_tail(work: Path, env: dict[str, str], lines: int, interval: float) -> list[float]:
    ready, gate = work / "tail.ready", work / "tail.gate"
    cli = [sys.executable, "-m", "pipetrail.cli"]
    job = subprocess.Popen([*cli, "run", "-q", str(work / "job.py"), "--", str(ready),
                            str(gate), str(lines), str(interval)],
                           stdout=subprocess.DEVNULL, env=env)
    run_id = wait_for(ready)
    # The job starts before its run is recorded: wait until the run can be read.
    while subprocess.run([*cli, "runs", "show", run_id], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env).returncode != 0:
        time.sleep(0.05)
    tail = subprocess.Popen([*cli, "logs", "tail", run_id, "--follow", "--raw", "--lines",
                             "0", "--stream", "output"], stdout=subprocess.PIPE, text=True,
                            env=env)
    latencies: list[float] = []
    reader = threading.Thread(target=read_latencies, args=(tail.stdout, gate, latencies))
    reader.start()
    job.wait()
    tail.wait(timeout=60)
    reader.join()
    return latencies


def report(name: str, values: list[float], base: dict[str, float] | None) -> dict[str, float]:
    figures = {"p50": quantile(values, 0.5), "p90": quantile(values, 0.9),
               "p99": quantile(values, 0.99), "max": max(values)}
    text = "  ".join(f"{k} {v:8.2f} ms" for k, v in figures.items())
    print(f"{name:<22} n={len(values):<5} {text}")
    if base is not None:
        ratios = "  ".join(f"{k} x{figures[k] / max(base[k], 1e-3):,.0f}" for k in figures)
        print(f"{'':<22} ratio to the pipe:  {ratios}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--interval", type=float, default=0.01,
                        help="seconds between the job's prints")
    parser.add_argument("--database-url", default=None,
                        help="a postgresql:// URL (default: SQLite in a temporary home)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "job.py").write_text(JOB)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env["PIPETRAIL_HOME"] = str(work / "home")
        if args.database_url:
            env["PIPETRAIL_DATABASE_URL"] = args.database_url
        plain = measure_plain(work, env, args.lines, args.interval)
        tail = measure_tail(work, env, args.lines, args.interval)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.lines} lines, one every {args.interval * 1000:g} ms; store: {backend}")
    base = report("print -> pipe (baseline)", plain, None)
    figures = report("print -> tail --follow", tail, base)
    if len(tail) != args.lines:
        print(f"warning: the tail showed {len(tail)} of {args.lines} lines")
    ok = figures["p50"] <= 50 and figures["p99"] <= 250
    print(f"target p50 <= 50 ms, p99 <= 250 ms: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
