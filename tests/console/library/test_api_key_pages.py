"""The API keys page and the admin show who made each key and when it was last used."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiKey
from tests.console.helpers import client_as
from tests.experiments.catalogue import catalogue_with_pending

pytestmark = pytest.mark.django_db
PAGE = "/api-keys/"


def _row(html: str, name: str) -> str:
    """The table row of the key with this name."""
    return re.search(rf"<tr>\s*<td>{re.escape(name)}</td>.*?</tr>", html, re.S)[0]


def _use(raw: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/experiments").status_code == 200


def test_page__key_created_on_the_page__creator_is_the_admin_and_never_used() -> None:
    admin = client_as("admin", "ops-lead")
    html = admin.post(PAGE, {"name": "checkout", "role": "app"}).content.decode()
    assert ApiKey.objects.get(name="checkout").created_by.username == "ops-lead"
    row = _row(html, "checkout")
    assert "ops-lead" in row and "never" in row


def test_page__command_line_key__shown_as_command_line(capsys) -> None:
    call_command("create_api_key", "nightly-export", role="viewer")
    assert ApiKey.objects.get(name="nightly-export").created_by is None
    row = _row(client_as("admin").get(PAGE).content.decode(), "nightly-export")
    assert "command line" in row


def test_page__used_key__last_used_shown_as_time_ago(capsys) -> None:
    call_command("create_api_key", "dashboard", role="viewer")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    _use(raw)
    fresh = _row(client_as("admin", "ops").get(PAGE).content.decode(), "dashboard")
    assert "just now" in fresh and "never" not in fresh
    key = ApiKey.objects.get(name="dashboard")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=7))
    row = _row(client_as("admin").get(PAGE).content.decode(), "dashboard")
    assert "7\xa0minutes ago" in row and "never" not in row
    assert 'datetime="' in row


def test_page__zh_hans__creator_and_last_used_in_chinese(settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    call_command("create_api_key", "cli-key", role="viewer")
    admin = client_as("admin")
    html = admin.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    head = html.split("<thead>")[1].split("</thead>")[0]
    assert "创建者" in head and "最近使用" in head
    row = _row(html, "cli-key")
    assert "命令行" in row and "从未" in row


@pytest.fixture
def staff(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def test_admin_add__records_creator_and_lists_creator_and_last_use(staff, admin_user) -> None:
    staff.post("/admin/core/apikey/add/", {"name": "growth team", "role": "editor"})
    key = ApiKey.objects.get(name="growth team")
    assert key.created_by == admin_user
    listing = staff.get("/admin/core/apikey/").content.decode()
    assert "Creator" in listing and "Last used at" in listing
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*growth team.*?</tr>", listing, re.S)[0]
    assert f'<td class="field-creator">{admin_user.username}</td>' in row
