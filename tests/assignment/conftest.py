from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assignment.definitions import definitions_clear
from assignment.services.exposures import exposure_cache_clear


@pytest.fixture(autouse=True)
def _fresh_assignment_caches(settings: Any) -> Iterator[None]:
    """Each test starts from the database: no definitions or written exposures remembered; the
    definitions version is checked on every call, so a change is served at once."""
    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 0
    definitions_clear()
    exposure_cache_clear()
    yield
    definitions_clear()
    exposure_cache_clear()
