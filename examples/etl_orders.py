"""Example ETL job: read orders (CSV), clean them, aggregate daily revenue, write Parquet.

Run it monitored with ``pipetrail run examples/etl_orders.py``; it also runs as a plain
script. Arguments: ``[INPUT_CSV] [OUTPUT_DIR]``.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pandas as pd

log = logging.getLogger("etl.orders")
HERE = Path(__file__).parent


def extract(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    log.info("read %d rows from %s", len(frame), path)
    return frame


EMAIL = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    before = len(frame)
    frame = frame.drop_duplicates(subset="order_id")
    frame = frame.dropna(subset=["unit_price"])
    frame = frame[frame["quantity"] > 0].copy()
    frame["region"] = frame["region"].str.strip().str.lower()
    frame["customer_email"] = frame["customer_email"].str.strip().str.lower()
    valid = frame["customer_email"].str.match(EMAIL)
    if (~valid).any():
        log.warning("dropping %d rows with invalid e-mail addresses", int((~valid).sum()))
    frame = frame[valid].copy()
    frame["email_domain"] = frame["customer_email"].str.split("@").str[1]
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="%Y-%m-%dT%H:%M:%S")
    frame["revenue"] = frame["quantity"] * frame["unit_price"]
    log.info("cleaned: kept %d of %d rows", len(frame), before)
    return frame


def enrich(frame: pd.DataFrame) -> pd.DataFrame:
    skus = frame["sku"].unique()
    products = pd.DataFrame({"sku": skus, "product_name": [f"product-{s}" for s in skus],
                             "margin": [0.1 + (int(s) % 30) / 100 for s in skus]})
    frame = frame.merge(products, on="sku", how="left")
    frame["profit"] = frame["revenue"] * frame["margin"]
    log.info("enriched with %d products", len(products))
    return frame


def aggregate(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    daily = (frame.groupby([frame["order_date"].dt.date.rename("day"), "region", "category"])
             .agg(orders=("order_id", "count"), units=("quantity", "sum"),
                  revenue=("revenue", "sum"))
             .reset_index())
    customers = (frame.groupby("customer_email")
                 .agg(orders=("order_id", "count"), revenue=("revenue", "sum"),
                      first_order=("order_date", "min"), last_order=("order_date", "max"))
                 .reset_index())
    customers["revenue_rank"] = customers["revenue"].rank(ascending=False, method="first")
    customers["segment"] = pd.qcut(customers["revenue"], 4, labels=["low", "mid", "high", "top"])
    regional = (frame.set_index("order_date").groupby("region")["revenue"]
                .resample("D").sum().groupby(level=0).rolling(7, min_periods=1).mean()
                .reset_index(level=0, drop=True).rename("revenue_7d").reset_index())
    log.info("aggregated %d daily rows, %d customers", len(daily), len(customers))
    return {"daily_revenue": daily, "customers": customers, "regional_7d": regional}


def load(tables: dict[str, pd.DataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        target = out / f"{name}.parquet"
        table.to_parquet(target, index=False)
        log.info("wrote %d rows to %s", len(table), target)


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data" / "orders.csv"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "data" / "out"
    if not source.exists():
        sys.exit(f"input not found: {source} (create it with: python examples/make_orders.py)")
    started = time.perf_counter()
    frame = enrich(clean(extract(source)))
    print(f"revenue total: {frame['revenue'].sum():,.2f}")
    tables = aggregate(frame)
    top = tables["daily_revenue"].groupby("region")["revenue"].sum().sort_values(ascending=False)
    for region, revenue in top.items():
        print(f"  {region:<6} {revenue:>14,.2f}")
    load(tables, out)
    print(f"done in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
