from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.throttling import rate_limits_reset


@pytest.fixture(autouse=True)
def _rate_limits_on() -> Iterator[None]:
    """Each test starts with the rate limits on (no outage remembered from another test)."""
    rate_limits_reset()
    yield
    rate_limits_reset()
