from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import require_corpus

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def spark_corpus() -> Path:
    """``<corpus>/spark-events`` (skips when the corpus is not there)."""
    return require_corpus("spark-events")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
