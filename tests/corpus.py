"""Where the shared corpus of real data lives (``PIPETRAIL_CORPUS`` overrides it)."""

from __future__ import annotations

import os
from pathlib import Path


def corpus_dir() -> Path | None:
    """The corpus folder, or ``None`` when it is not there (tests then skip)."""
    override = os.environ.get("PIPETRAIL_CORPUS")
    path = (Path(override) if override
            else Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus")
    return path.resolve() if path.is_dir() else None
