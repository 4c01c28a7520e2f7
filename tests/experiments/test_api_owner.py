"""The experiment API names an owner by username, with the services' rule for unknown users."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from experiments.models import Experiment

from .test_api import _body, _create
from .test_api import metrics as metrics_fixture

metrics = metrics_fixture  # the fixture, shared with test_api


@pytest.fixture
def people(db: None) -> None:
    users = get_user_model().objects
    users.create_user("mei", password="pw-12345678")
    users.create_user("gone", password="pw-12345678", is_active=False)


pytestmark = pytest.mark.usefixtures("metrics")


def test_create__owner_username__stored_and_shown(editor, people) -> None:
    answer = _create(editor, _body(owner="mei"))
    assert answer.status_code == 201, answer.json()
    assert answer.json()["owner"] == "mei"
    assert Experiment.objects.get(key="pricing-pro-tier").owner.username == "mei"


@pytest.mark.parametrize("owner", ["nobody", "gone"])
def test_create__unknown_or_inactive_owner__400_on_owner_and_nothing_stored(
    editor, people, owner
) -> None:
    answer = _create(editor, _body(owner=owner))
    assert answer.status_code == 400
    assert answer.json() == {"owner": [f'No active user named "{owner}".']}
    assert not Experiment.objects.exists()


def test_update__owner_changed__shown_after(editor, people) -> None:
    assert _create(editor).status_code == 201
    answer = editor.patch("/api/v1/experiments/pricing-pro-tier", {"owner": "mei"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert editor.get("/api/v1/experiments/pricing-pro-tier").json()["owner"] == "mei"
