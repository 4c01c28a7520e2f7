"""API keys and roles: who may read and write the control plane."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.models import ApiKey

METRIC = {"key": "paid_conversion", "name": "Paid", "type": "conversion", "event": "purchase"}


@pytest.mark.django_db
def test_no_key__401_with_bearer_challenge(client_for) -> None:
    response = client_for(None).get("/api/v1/experiments")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_unknown_key__401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer vk_not-a-real-key")
    assert client.get("/api/v1/experiments").status_code == 401


@pytest.mark.django_db
def test_viewer__reads_but_writing__403(viewer) -> None:
    assert viewer.get("/api/v1/experiments").status_code == 200
    response = viewer.post("/api/v1/metrics", METRIC, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


@pytest.mark.django_db
def test_app_key__control_plane__403(app_client) -> None:
    assert app_client.get("/api/v1/experiments").status_code == 403
    assert app_client.post("/api/v1/metrics", METRIC, format="json").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "editor"])
def test_writer_roles__create_metric__201(client_for, role) -> None:
    response = client_for(role).post("/api/v1/metrics", METRIC, format="json")
    assert response.status_code == 201


@pytest.mark.django_db
def test_revoked_key__401(client_for) -> None:
    from django.utils import timezone

    from core.auth import api_key_cache_clear

    client = client_for("editor")
    ApiKey.objects.update(revoked_at=timezone.now())
    api_key_cache_clear()
    assert client.get("/api/v1/experiments").status_code == 401


@pytest.mark.django_db
def test_create_api_key_command__prints_key_last_and_stores_only_hash(capsys) -> None:
    call_command("create_api_key", "ios-app", "--role", "app")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    stored = ApiKey.objects.get(name="ios-app")
    assert stored.role == "app"
    assert raw not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == ApiKey.hash_key(raw)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/experiments").status_code == 403  # app key, control plane


@pytest.mark.django_db
def test_session_login__staff_reads_and_writes(client) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("pm", password="pw-12345678", is_staff=True)
    api = APIClient()
    api.force_login(user)
    assert api.get("/api/v1/experiments").status_code == 200
    assert api.post("/api/v1/metrics", METRIC, format="json").status_code == 201
