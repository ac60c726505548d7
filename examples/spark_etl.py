"""Example PySpark ETL job: read orders (CSV), clean them, aggregate, write Parquet.

The same work as ``etl_orders.py`` (pandas), on Spark in local mode. Run it monitored
with ``pipetrail run examples/spark_etl.py``: its event log is switched on, its progress
is polled into Glue-named metrics, and a failure gets insights. It also runs as a plain
script. Arguments: ``[INPUT_CSV] [OUTPUT_DIR]``; the input comes from
``python examples/make_orders.py``.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

log = logging.getLogger("etl.spark_orders")
HERE = Path(__file__).parent
SCHEMA = StructType([
    StructField("order_id", LongType()),
    StructField("order_date", StringType()),
    StructField("region", StringType()),
    StructField("category", StringType()),
    StructField("customer_email", StringType()),
    StructField("sku", StringType()),
    StructField("quantity", IntegerType()),
    StructField("unit_price", DoubleType()),
])
EMAIL = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"


def extract(spark: SparkSession, path: Path) -> DataFrame:
    return spark.read.csv(str(path), header=True, schema=SCHEMA)


def clean(orders: DataFrame) -> DataFrame:
    return (orders.dropDuplicates(["order_id"])
            .where(F.col("unit_price").isNotNull() & (F.col("quantity") > 0))
            .withColumn("region", F.lower(F.trim("region")))
            .withColumn("customer_email", F.lower(F.trim("customer_email")))
            .where(F.col("customer_email").rlike(EMAIL))
            .withColumn("email_domain", F.split("customer_email", "@").getItem(1))
            .withColumn("day", F.to_date(F.substring("order_date", 1, 10)))
            .withColumn("revenue", F.col("quantity") * F.col("unit_price")))


def aggregate(orders: DataFrame) -> dict[str, DataFrame]:
    daily = (orders.groupBy("day", "region", "category")
             .agg(F.count("order_id").alias("orders"), F.sum("quantity").alias("units"),
                  F.round(F.sum("revenue"), 2).alias("revenue")))
    customers = (orders.groupBy("customer_email")
                 .agg(F.count("order_id").alias("orders"), F.sum("revenue").alias("revenue"),
                      F.min("day").alias("first_order"), F.max("day").alias("last_order")))
    return {"daily_revenue": daily, "customers": customers}


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data" / "orders.csv"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "data" / "spark_out"
    if not source.exists():
        sys.exit(f"input not found: {source} (create it with: python examples/make_orders.py)")
    started = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("spark_etl")
             .config("spark.sql.shuffle.partitions", "8")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    orders = clean(extract(spark, source)).cache()
    log.info("cleaned orders: %d", orders.count())
    tables = aggregate(orders)
    for region, revenue in (tables["daily_revenue"].groupBy("region")
                            .agg(F.sum("revenue").alias("revenue"))
                            .orderBy(F.desc("revenue")).collect()):
        print(f"  {region:<6} {revenue:>14,.2f}")
    for name, table in tables.items():
        table.write.mode("overwrite").parquet(str(out / name))
        log.info("wrote %s", out / name)
    spark.stop()
    print(f"done in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
