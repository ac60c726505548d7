"""Java options that make the tests' PySpark drivers start faster.

Most of a short local PySpark job's time is the driver JVM's start: loading and verifying
some 15,000 classes, and compiling hot code. Two standard JVM features cut it about in
half, without changing what Spark does:

- ``-XX:TieredStopAtLevel=1``: the quick C1 compiler only (short jobs never profit from
  C2's slower, better code);
- an AppCDS archive (``-XX:SharedArchiveFile``): the classes a small Spark SQL job loads,
  parsed and verified once, then mapped into every later driver. It is written by one
  small job run with ``-XX:ArchiveClassesAtExit`` the first time a test needs it, and kept
  in ``PIPETRAIL_TEST_CACHE`` (default ``~/.cache/pipetrail-tests``; ``off`` keeps no
  archive) under a name that changes with PySpark and Java, so later sessions reuse it.
  A JVM that cannot use the archive (another class path) starts as it would without it;
  CDS log lines are switched off so that nothing is added to a job's output.

Only the driver JVM gets them (``--driver-java-options`` in ``PYSPARK_SUBMIT_ARGS``), not
Spark's launcher, whose own class path does not match the archive.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FAST_START = "-XX:TieredStopAtLevel=1"
QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"
DUMP_TIMEOUT = 180

# A small job touching what the tests' jobs use: SQL planning and code generation,
# shuffles, Parquet and CSV in and out, a Python UDF, the py4j callback server.
DUMP_JOB = """
import sys
from pyspark.sql import SparkSession, functions as F

out = sys.argv[1]
spark = (SparkSession.builder.master("local[2]").appName("cds")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
df = spark.range(0, 1000, numPartitions=2).withColumn("k", F.col("id") % 7)
df.groupBy("k").agg(F.sum("id").alias("s")).write.mode("overwrite").parquet(out + "/p")
spark.read.parquet(out + "/p").filter("s > 1").select("k").collect()
df.write.mode("overwrite").option("header", True).csv(out + "/c")
spark.read.csv(out + "/c", header=True, inferSchema=True).select("k").count()


@F.udf("long")
def plus(x):
    return x + 1


df.select(plus("id")).collect()
spark.sparkContext.parallelize(range(10), 2).map(lambda x: (x % 2, x)).reduceByKey(
    lambda a, b: a + b).collect()
spark.stop()
"""

_options: str | None = None


def driver_java_options() -> str:
    """The driver's Java options (computed once per test session)."""
    global _options
    if _options is None:
        archive = _archive()
        _options = FAST_START + (f" -XX:SharedArchiveFile={archive} {QUIET_CDS}"
                                 if archive is not None else "")
    return _options


def submit_args(*extra: str) -> str:
    """``PYSPARK_SUBMIT_ARGS`` for a test's PySpark job: the driver options, ``extra``."""
    return " ".join([f"--driver-java-options '{driver_java_options()}'", *extra,
                     "pyspark-shell"])


def _cache_dir() -> Path | None:
    setting = os.environ.get("PIPETRAIL_TEST_CACHE", "")
    if setting.strip().lower() == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pipetrail-tests"


def _archive() -> Path | None:
    """The archive for this PySpark and Java, written first if needed (None: none)."""
    try:
        import pyspark
    except ImportError:
        return None
    java = shutil.which("java")
    folder = _cache_dir()
    if java is None or folder is None:
        return None
    home = Path(pyspark.__file__).parent
    key = hashlib.sha256()
    key.update(f"{pyspark.__version__}|{home}|{os.path.realpath(java)}".encode())
    with contextlib.suppress(OSError):
        key.update(str(os.stat(os.path.realpath(java)).st_mtime_ns).encode())
        for jar in sorted((home / "jars").glob("*.jar")):
            key.update(f"{jar.name}:{jar.stat().st_size}".encode())
    target = folder / f"spark-{pyspark.__version__}-{key.hexdigest()[:16]}.jsa"
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # One writer at a time (parallel test processes): the others wait, then reuse it.
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return target if target.is_file() else _dump(target)
    except (OSError, subprocess.SubprocessError):
        return None


def _dump(target: Path) -> Path | None:
    """Run :data:`DUMP_JOB` once, archiving the classes it loads into ``target``."""
    with tempfile.TemporaryDirectory(prefix="pipetrail-cds-") as tmp:
        partial = Path(tmp) / "archive.jsa"
        script = Path(tmp) / "job.py"
        script.write_text(DUMP_JOB)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env["PYSPARK_SUBMIT_ARGS"] = (f"--driver-java-options '{FAST_START} "
                                      f"-XX:ArchiveClassesAtExit={partial}' pyspark-shell")
        env["PYSPARK_PYTHON"] = sys.executable
        done = subprocess.run([sys.executable, str(script), str(Path(tmp) / "out")], env=env,
                              cwd=tmp, capture_output=True, timeout=DUMP_TIMEOUT, check=False)
        if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            return None
        # Readers only ever see a whole archive (other sessions may be looking for it).
        staged = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.move(str(partial), staged)
        os.replace(staged, target)
    return target
