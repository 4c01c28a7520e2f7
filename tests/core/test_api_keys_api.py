"""The API keys list shows who created each key and when it was last used."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from core.api_keys import api_key_create


@pytest.mark.django_db
def test_api_keys_list__creator_and_last_use__shown_after_the_key_is_used() -> None:
    admin_key, admin_raw = api_key_create(name="ops admin", role="admin")
    person = get_user_model().objects.create_user("mei", password="pw-12345678")
    app_key, app_raw = api_key_create(name="checkout", role="app", created_by=person)
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_raw}")

    before = {row["name"]: row for row in admin.get("/api/v1/api-keys").json()}
    assert before["checkout"]["created_by"] == "mei"
    assert before["checkout"]["last_used_at"] is None
    assert before["ops admin"]["created_by"] is None

    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {app_raw}")
    app.post("/api/v1/assign", {"unit_id": "u1", "experiments": []}, format="json")

    after = {row["name"]: row for row in admin.get("/api/v1/api-keys").json()}
    assert after["checkout"]["last_used_at"] is not None
