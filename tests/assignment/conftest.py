from __future__ import annotations

from collections.abc import Iterator

import pytest

from assignment.definitions import definitions_clear
from assignment.services.exposures import exposure_cache_clear


@pytest.fixture(autouse=True)
def _fresh_assignment_caches() -> Iterator[None]:
    """Each test starts from the database: no definitions or written exposures remembered."""
    definitions_clear()
    exposure_cache_clear()
    yield
    definitions_clear()
    exposure_cache_clear()
