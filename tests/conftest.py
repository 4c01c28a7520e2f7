from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from experiments.auth import api_key_cache_clear
from experiments.services.api_keys import api_key_create


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    from django.core.cache import cache

    cache.clear()
    api_key_cache_clear()


@pytest.fixture
def client_for(db: None) -> Callable[[str | None], APIClient]:
    """An API client authenticated with a new key of the given role (None: no key)."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            _, raw = api_key_create(name=f"test-{role}", role=role)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def editor(client_for: Callable[[str | None], APIClient]) -> APIClient:
    return client_for("editor")


@pytest.fixture
def viewer(client_for: Callable[[str | None], APIClient]) -> APIClient:
    return client_for("viewer")


@pytest.fixture
def app_client(client_for: Callable[[str | None], APIClient]) -> APIClient:
    return client_for("app")
