"""The lakes these tests write live under pytest's temporary directory: it is the lake path
the operator allows here (``VERDICT_SPARK_ALLOWED_PATHS``, docs/warehouse.md#security)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _lake_under_pytest_tmp(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.VERDICT_SPARK_ALLOWED_PATHS = [str(tmp_path_factory.getbasetemp())]
