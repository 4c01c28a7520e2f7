"""The admin's JSON boxes with JSON nested too deep (issue 21, defect 5): a message on the
field and nothing saved, instead of a ``RecursionError`` (a 500).

The admin parses its JSON boxes itself (Django's form ``JSONField``, the data source's options
box), not with the API's parser, so it needs the same bound.
"""

from __future__ import annotations

import pytest
from django.test import Client

from experiments.models import DataSource, Experiment, Variant
from tests.experiments.test_admin import ADMIN, page_data
from tests.factories import ready_experiment

pytestmark = pytest.mark.django_db
TOO_DEEP = "Nested more than 32 levels deep."


@pytest.fixture
def staff(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def _and(levels: int) -> str:
    return '{"$and":[' * levels + '{"country":"SG"}' + "]}" * levels


def _arrays(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("depth", [33, 1_000, 50_000])
def test_admin_experiment__targeting_or_payload_too_deep__message_and_nothing_saved(
    staff: Client, depth: int
) -> None:
    experiment = ready_experiment(key="price")
    payloads = [v.payload for v in experiment.variants.all()]
    url = f"{ADMIN}experiment/{experiment.pk}/change/"
    data = page_data(staff.get(url))
    data["targeting"] = _and(depth)
    payload = next(name for name in data if name.endswith("-payload"))
    data[payload] = _arrays(depth)

    response = staff.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["targeting"] == [TOO_DEEP]
    inlines = response.context["inline_admin_formsets"]
    [variants] = [inline.formset for inline in inlines if inline.formset.model is Variant]
    assert [TOO_DEEP] in [form.errors.get("payload") for form in variants.forms]
    experiment.refresh_from_db()
    assert experiment.targeting == {}
    assert [v.payload for v in experiment.variants.all()] == payloads
    assert Experiment.objects.count() == 1


@pytest.mark.parametrize("depth", [33, 1_000, 50_000])
def test_admin_data_source__options_too_deep__message_and_nothing_saved(
    staff: Client, depth: int
) -> None:
    body = {
        "key": "lake",
        "name": "Lake",
        "kind": "spark",
        "session_url": "local[2]",
        "exposures": "lake.exposures",
        "events": "lake.events",
        "exposure_columns": "{}",
        "event_columns": "{}",
        "new_options": '{"spark.executor.memory":' + _arrays(depth - 1) + "}",
    }

    response = staff.post(f"{ADMIN}datasource/add/", body)

    assert response.status_code == 200
    assert "new_options" in response.context["adminform"].form.errors
    assert not DataSource.objects.exists()
