from __future__ import annotations

import pytest

from pipetrail.config import Settings
from pipetrail.store import Store
from tests.trail.builders import Trail, make_trail


@pytest.fixture
def trail(store: Store, settings: Settings) -> Trail:
    return make_trail(store, settings.home)
