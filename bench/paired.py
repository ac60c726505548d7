"""Alternating whole-process timing of a plain command and its monitored twin.

Both benchmarks of ``pipetrail run``'s overhead (``run_overhead.py``,
``spark_overhead.py``) use it: one warm-up of each, then plain, monitored, plain, …, and
the medians and the ratio (monitored / plain) as pairs and as medians.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "orders.csv"


def ensure_orders() -> Path:
    """The example orders CSV (generated on first use)."""
    if not DATA.exists():
        subprocess.run([sys.executable, str(ROOT / "examples" / "make_orders.py"), str(DATA)],
                       check=True)
    return DATA


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True, cwd=ROOT)
    return time.perf_counter() - started


@dataclass
class Paired:
    plain: list[float]
    monitored: list[float]

    def report(self, target: float) -> None:
        plain, monitored = statistics.median(self.plain), statistics.median(self.monitored)
        pairs = statistics.median(b / a for a, b in zip(self.plain, self.monitored,
                                                          strict=True))
        print(f"plain python      median {plain:.3f} s  "
              f"(min {min(self.plain):.3f}, max {max(self.plain):.3f})")
        print(f"pipetrail run     median {monitored:.3f} s  "
              f"(min {min(self.monitored):.3f}, max {max(self.monitored):.3f})")
        print(f"ratio (monitored/plain): median of pairs {pairs:.3f}, "
              f"of medians {monitored / plain:.3f}  (target <= {target:g})")


def compare(plain: list[str], monitored: list[str], env: dict[str, str], runs: int) -> Paired:
    timed(plain, env)
    timed(monitored, env)
    result = Paired([], [])
    for _ in range(runs):
        result.plain.append(timed(plain, env))
        result.monitored.append(timed(monitored, env))
    return result
