"""Where the conformance corpus is: ``../shared/corpus`` beside the repository, or
``PIPETRAIL_CORPUS``. Tests that need it skip when it is absent (a fresh clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path | None:
    override = os.environ.get("PIPETRAIL_CORPUS")
    candidate = Path(override) if override else REPO.parent / "shared" / "corpus"
    return candidate if candidate.is_dir() else None


def require_corpus(*parts: str) -> Path:
    """The corpus path ``parts`` below the corpus folder, or skip the test."""
    base = corpus_dir()
    if base is None:
        _absent("the conformance corpus (../shared/corpus) is not present")
    assert base is not None
    path = base.joinpath(*parts) if parts else base
    if not path.exists():
        _absent(f"corpus file {path} is not present")
    return path


def _absent(reason: str) -> None:
    """Skip, or fail where the corpus is required (CI sets PIPETRAIL_REQUIRE_CORPUS=1)."""
    if os.environ.get("PIPETRAIL_REQUIRE_CORPUS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
