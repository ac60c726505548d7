"""Where the shared conformance corpus lives (``PIPETRAIL_CORPUS`` overrides)."""

from __future__ import annotations

import os
from pathlib import Path


def corpus_dir() -> Path | None:
    """The corpus folder, or None when it is absent (tests then skip)."""
    override = os.environ.get("PIPETRAIL_CORPUS")
    if override:
        path = Path(override)
    else:
        path = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
    return path.resolve() if path.is_dir() else None
