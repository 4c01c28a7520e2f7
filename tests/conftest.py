from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.api_keys import api_key_create
from core.caches import caches_clear

# Long studies, the Spark engine and the browser tests run when selected (``-m slow``,
# ``-m spark``, ``-m e2e``) or with VERDICT_FULL_SUITE=1, which CI sets: ``make test`` stays
# quick without them.
GATED_MARKERS = ("slow", "spark", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("VERDICT_FULL_SUITE") == "1":
        return
    markexpr = config.getoption("markexpr") or ""
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
        for name in GATED_MARKERS:
            if item.get_closest_marker(name) and name not in markexpr:
                reason = f"{name} test: select it with -m {name}, or set VERDICT_FULL_SUITE=1"
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _fresh_caches(settings: Any) -> Iterator[None]:
    """Each test starts from the database: nothing remembered in process (every cache in the
    ``core.caches`` registry is emptied); the definitions version is checked on every call, so a
    change is served at once."""
    from django.core.cache import cache

    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 0
    cache.clear()
    caches_clear()
    yield
    caches_clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a test that renders a page in 简体中文 (a
    request's locale middleware activates it in this thread) does not leave it to the next."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


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


@pytest.fixture(autouse=True)
def _fresh_broker_connections() -> Iterator[None]:
    """Tests that run a real worker point Celery at a real broker and back; the pooled
    connections they leave behind are closed, so later eager tasks (which still acquire a
    producer) do not find a closed pool."""
    yield
    from kombu import pools

    from config.celery import app

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    app.__dict__.pop("amqp", None)
    pools.reset()
