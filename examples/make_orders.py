"""Write a deterministic CSV of orders for the example job (with some dirty rows)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 600_000


def main(path: Path, rows: int = ROWS) -> None:
    rng = np.random.default_rng(20261125)
    days = pd.date_range("2026-01-01", periods=300, freq="D")
    frame = pd.DataFrame({
        "order_id": np.arange(1, rows + 1),
        "order_date": rng.choice(days, rows).astype("datetime64[s]").astype(str),
        "region": rng.choice(["north", "south", "east", "west", " North", "SOUTH"], rows),
        "category": rng.choice(["books", "games", "garden", "tools", "food"], rows),
        "customer_email": [f" Customer{c}@Example{c % 7}.com " for c in np.arange(rows) % 80_000],
        "sku": rng.integers(1, 5_000, rows).astype(str),
        "quantity": rng.integers(1, 20, rows),
        "unit_price": rng.gamma(2.0, 15.0, rows).round(2),
    })
    # Dirt: missing prices, negative quantities, duplicated orders.
    frame.loc[rng.choice(rows, rows // 100, replace=False), "unit_price"] = np.nan
    frame.loc[rng.choice(rows, rows // 200, replace=False), "quantity"] = -1
    frame = pd.concat([frame, frame.sample(rows // 100, random_state=1)])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def broken(source: Path, target: Path) -> None:
    """A later delivery of the same feed in which ``unit_price`` was renamed: the example
    job fails on it (for the demo of failure insights)."""
    frame = pd.read_csv(source, nrows=5_000).rename(columns={"unit_price": "price"})
    frame.to_csv(target, index=False)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--broken":
        broken(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1
             else Path(__file__).parent / "data/orders.csv")
