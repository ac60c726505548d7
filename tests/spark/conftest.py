from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import corpus_dir

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def spark_corpus() -> Path:
    """``<corpus>/spark-events`` (skips when the corpus is not there)."""
    root = corpus_dir()
    if root is None or not (root / "spark-events").is_dir():
        pytest.skip("the shared corpus (spark-events/) is not available; set PIPETRAIL_CORPUS")
    return root / "spark-events"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
