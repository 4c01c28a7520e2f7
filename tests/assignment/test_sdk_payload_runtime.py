"""The data-plane entry point: only the runtime endpoints, through minimal middleware."""

from __future__ import annotations

import pytest
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from config.settings.data_plane import (
    RUNTIME_AUTHENTICATION_CLASSES,
    RUNTIME_MIDDLEWARE,
    RUNTIME_URLCONF,
)
from core.api_keys import api_key_create
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def runtime(settings):
    settings.ROOT_URLCONF = RUNTIME_URLCONF
    settings.MIDDLEWARE = RUNTIME_MIDDLEWARE
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": RUNTIME_AUTHENTICATION_CLASSES,
    }
    clear_url_caches()
    yield
    clear_url_caches()


def _client(role: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name=role, role=role)[1]}")
    return client


def test_runtime__assign_events_exposures_payload__served(runtime):
    started_experiment(key="checkout")
    app = _client("app")
    answer = app.post("/api/v1/assign", {"unit_id": "u-1"}, format="json")
    assert answer.status_code == 200
    assert answer["X-Request-ID"]
    assert answer["X-Content-Type-Options"] == "nosniff"
    variant = answer.json()["assignments"][0]["variant"]
    exposure = {"unit_id": "u-2", "experiment": "checkout", "variant": variant}
    assert (
        app.post("/api/v1/exposures", {"exposures": [exposure]}, format="json").status_code == 200
    )
    events = app.post("/api/v1/events", {"events": []}, format="json")
    assert events.status_code == 400
    client_key = api_key_create(name="web", role="client")[1]
    payload = APIClient().get(f"/api/v1/sdk/{client_key}/features")
    assert payload.status_code == 200
    assert "checkout" in payload.json()["features"]


@pytest.mark.parametrize(
    "url", ["/api/v1/experiments", "/admin/", "/", "/api/v1/exposures/rejections/checkout"]
)
def test_runtime__control_plane_paths__404(runtime, url):
    started_experiment(key="checkout")
    assert _client("admin").get(url).status_code == 404


def test_runtime__oversized_body__413(runtime):
    body = b'{"unit_id": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = _client("app").generic(
        "POST", "/api/v1/assign", body, content_type="application/json"
    )
    assert response.status_code == 413


def test_runtime_wsgi__loads__a_wsgi_application():
    from django.core.handlers.wsgi import WSGIHandler

    from config.runtime_wsgi import application

    assert isinstance(application, WSGIHandler)
