"""The job's environment as the job sees it: Python version and key package versions.

Sent once per run as an ``env`` record (see :mod:`pipetrail.sdk.channel`) so that a
failed run can be compared with the last good one. Versions come from the installed
distributions' metadata (``importlib.metadata``), never by importing the packages; the
lookup runs in a background thread so the script starts at once.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from pipetrail.sdk.channel import Channel

# Distributions whose versions most often explain a changed behaviour of an ETL job.
KEY_PACKAGES = ("pandas", "numpy", "pyarrow", "pyspark", "py4j", "polars", "duckdb",
                "sqlalchemy", "fsspec", "s3fs", "boto3")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (absent ones are left out)."""
    import importlib.metadata as metadata

    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        except Exception:  # broken metadata of one distribution
            continue
    return found


def describe_environment() -> dict[str, Any]:
    return {
        "t": "env",
        "ts": int(time.time() * 1000),
        "python": ".".join(str(n) for n in sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "platform": sys.platform,
        "packages": package_versions(),
    }


def report_environment(channel: Channel) -> threading.Thread:
    """Send the ``env`` record from a daemon thread; join it (briefly) before exit."""

    def send() -> None:
        try:
            channel.send(describe_environment())
        except Exception:
            return

    thread = threading.Thread(target=send, name="pipetrail-env", daemon=True)
    thread.start()
    return thread
