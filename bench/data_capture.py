"""Cost of data-access capture: a pandas job doing many small reads and writes.

The job reads and writes small CSV and Parquet files in a loop and prints how long the
loop took. It runs under ``pipetrail run`` with capture on and with capture off
(``PIPETRAIL_DATA_CAPTURE=0``), and with plain ``python``, alternately, in the same
session. Prints the medians of the loop's wall and CPU time, the ratios (capture on /
capture off; capture on / plain) and the CPU cost per captured call (CPU time is the
steadier figure on a shared machine).

A second, steadier figure is measured in this process: ``read_csv`` + ``to_csv`` of a
small file, the originals against the wrapped functions sending their records to a
pipe that a thread drains (as the runner does).

    python bench/data_capture.py [--runs 5] [--operations 400]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

JOB = r'''
import json, sys, time
import pandas as pd

folder, operations = sys.argv[1], int(sys.argv[2])
frame = pd.DataFrame({"id": range(20), "name": [f"n{i}" for i in range(20)],
                      "value": [i * 0.5 for i in range(20)]})
frame.to_csv(f"{folder}/seed.csv", index=False)
frame.to_parquet(f"{folder}/seed.parquet", index=False)
started, cpu = time.perf_counter(), time.process_time()
for i in range(operations // 4):
    a = pd.read_csv(f"{folder}/seed.csv", usecols=["id", "value"])
    a.to_csv(f"{folder}/out{i % 10}.csv", index=False)
    b = pd.read_parquet(f"{folder}/seed.parquet", columns=["name"])
    b.to_parquet(f"{folder}/out{i % 10}.parquet", index=False)
print(json.dumps({"seconds": time.perf_counter() - started,
                  "cpu": time.process_time() - cpu}))
'''


def loop_seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of the job's loop."""
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), float(figures["cpu"])


def in_process(folder: Path, calls: int) -> tuple[float, float]:
    """Seconds per read_csv + to_csv pair: original, then wrapped."""
    import pandas as pd

    from pipetrail.sdk.capture import pandas as capture
    from pipetrail.sdk.channel import Channel, activate

    read_fd, write_fd = os.pipe()
    # Another process drains the pipe, as the runner does.
    drain = subprocess.Popen(["cat"], stdin=read_fd, stdout=subprocess.DEVNULL)
    os.close(read_fd)
    seed = folder / "seed.csv"
    pd.DataFrame({"id": range(20), "value": [i * 0.5 for i in range(20)]}).to_csv(
        seed, index=False)
    read, write = pd.read_csv, pd.DataFrame.to_csv
    channel = Channel(write_fd)
    activate(channel)
    capture.install(pd)

    def timed(read_csv: Callable[..., pd.DataFrame], to_csv: Callable[..., object]) -> float:
        started = time.process_time()  # CPU time: steadier than wall time on a busy host
        for i in range(calls):
            to_csv(read_csv(seed, usecols=["id"]), folder / f"o{i % 5}.csv", index=False)
        return (time.process_time() - started) / calls

    timed(read, write), timed(pd.read_csv, pd.DataFrame.to_csv)  # warm-up
    originals, wrapped_times = [], []
    for _ in range(7):  # alternating rounds
        originals.append(timed(read, write))
        wrapped_times.append(timed(pd.read_csv, pd.DataFrame.to_csv))
    activate(None)
    channel.close()
    drain.wait()
    original, wrapped = statistics.median(originals), statistics.median(wrapped_times)
    return original, wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--operations", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        job = base / "job.py"
        job.write_text(JOB)
        (base / "data").mkdir()
        env = {**os.environ, "PIPETRAIL_HOME": str(base / "home"),
               "PIPETRAIL_SAMPLE_INTERVAL": "1"}
        env.pop("PIPETRAIL_DATABASE_URL", None)
        job_args = [str(job), str(base / "data"), str(args.operations)]
        monitored = [sys.executable, "-m", "pipetrail.cli", "run", "-q", job_args[0], "--",
                     *job_args[1:]]
        variants = {
            "plain python": ([sys.executable, *job_args], env),
            "capture off": (monitored, {**env, "PIPETRAIL_DATA_CAPTURE": "0"}),
            "capture on": (monitored, env),
        }
        for command, variant_env in variants.values():  # warm-up
            loop_seconds(command, variant_env)
        walls: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, (command, variant_env) in variants.items():
                seconds, cpu_seconds = loop_seconds(command, variant_env)
                walls[name].append(seconds)
                cpus[name].append(cpu_seconds)
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    print(f"pandas job: {args.operations} reads and writes of small CSV/Parquet files, "
          f"{args.runs} runs each, alternating; the loop only (no start-up)")
    for name in variants:
        print(f"{name:<13} wall median {wall[name]:.3f} s (min {min(walls[name]):.3f}, "
              f"max {max(walls[name]):.3f}); CPU median {cpu[name]:.3f} s")
    for label, figures in (("wall", wall), ("CPU", cpu)):
        on, off, plain = (figures[k] for k in ("capture on", "capture off", "plain python"))
        print(f"{label:>4}: capture on / capture off {on / off:.3f}; "
              f"capture on / plain python {on / plain:.3f}")
    per_call = (cpu["capture on"] - cpu["capture off"]) / args.operations
    print(f"CPU cost per captured call: {per_call * 1e6:.0f} µs")
    with tempfile.TemporaryDirectory() as tmp:
        original, wrapped = in_process(Path(tmp), 500)
    print(f"in process, read_csv + to_csv of a 20-row file (CPU time): original "
          f"{original * 1e6:.0f} µs, captured {wrapped * 1e6:.0f} µs per pair; ratio "
          f"{wrapped / original:.3f}; {(wrapped - original) / 2 * 1e6:.0f} µs per captured call")


if __name__ == "__main__":
    main()
