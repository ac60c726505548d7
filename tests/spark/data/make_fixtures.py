"""Regenerate the Spark event logs in this folder with real PySpark (local mode).

    pip install -e '.[spark]'
    python tests/spark/data/make_fixtures.py

Writes ``codec-<codec>.<codec>`` (one small job, one file per codec Spark supports) and
``plans.zstd`` (SQL executions with a cartesian product, a broadcast nested loop join,
a filter that cannot be pushed into a Parquet scan, and 40 small files written then read).
``--plans`` regenerates only ``plans.zstd``.
The tests only read these files; they never run Spark themselves (except the slow
History Server conformance test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

TINY = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[2]").appName("codec-fixture").getOrCreate()
print(spark.range(0, 1000).selectExpr("id", "id % 7 AS k").groupBy("k").count().collect())
spark.stop()
"""

PLANS = """
import sys
from pyspark.sql import SparkSession, functions as F
out = sys.argv[1]
spark = (SparkSession.builder.master("local[2]").appName("plans-fixture")
         .config("spark.sql.crossJoin.enabled", "true").getOrCreate())
people = spark.range(0, 2000).selectExpr("id", "concat('n', id) AS name", "id % 10 AS team")
people.repartition(40).write.mode("overwrite").parquet(out + "/people")
p = spark.read.parquet(out + "/people")
teams = spark.range(0, 10).selectExpr("id AS team_id", "id * 100 AS budget")
spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
print(p.crossJoin(teams).count())
spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
print(p.join(F.broadcast(teams), p.team < teams.team_id).count())
print(p.filter(F.length("name") > 3).count())
spark.stop()
"""


def run(script: str, conf: dict[str, str], *args: str) -> None:
    submit = " ".join(f"--conf {k}={v}" for k, v in conf.items())
    env = dict(os.environ, PYSPARK_SUBMIT_ARGS=f"{submit} pyspark-shell",
               PYSPARK_PYTHON=sys.executable)
    subprocess.run([sys.executable, "-c", script, *args], check=True, env=env)


def main() -> None:
    codecs = () if "--plans" in sys.argv else ("zstd", "lz4", "snappy", "lzf")
    with tempfile.TemporaryDirectory() as tmp:
        for codec in codecs:
            logs = Path(tmp, codec)
            logs.mkdir()
            run(TINY, {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(logs),
                       "spark.eventLog.rolling.enabled": "false",
                       "spark.eventLog.compress": "true",
                       "spark.eventLog.compression.codec": codec, "spark.ui.enabled": "false"})
            (log,) = logs.iterdir()
            shutil.copy(log, HERE / f"codec-{codec}.{codec}")
        logs = Path(tmp, "plans")
        logs.mkdir()
        run(PLANS, {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(logs),
                    "spark.eventLog.rolling.enabled": "false", "spark.eventLog.compress": "true",
                    "spark.eventLog.compression.codec": "zstd", "spark.ui.enabled": "false"},
            str(Path(tmp, "data")))
        (log,) = logs.iterdir()
        shutil.copy(log, HERE / "plans.zstd")


if __name__ == "__main__":
    main()
