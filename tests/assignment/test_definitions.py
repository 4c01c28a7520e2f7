"""The in-process definitions cache: no database reads per call, reloads on change or age."""

from __future__ import annotations

import pytest

from experiments.models import Experiment
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db


def _reason(client, unit_id="u1", key="cached"):
    body = {"unit_id": unit_id, "experiments": [key], "track": False}
    return client.post("/api/v1/assign", body, format="json").json()["assignments"][0]["reason"]


def test_definitions__warm__assign_reads_nothing_from_the_database(
    app_client, django_assert_num_queries
):
    started_experiment(key="cached")
    _reason(app_client)
    with django_assert_num_queries(0):
        for i in range(5):
            _reason(app_client, f"u{i}")


def test_definitions__changed_without_version_bump__served_until_max_age(app_client, settings):
    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 60
    started_experiment(key="cached")
    assert _reason(app_client) == "hashed"
    # A write that bypasses the services (no version bump): the copy in memory still serves.
    Experiment.objects.filter(key="cached").update(coverage=0.0)
    assert _reason(app_client) == "hashed"
    settings.VERDICT_DEFINITIONS_MAX_AGE_SECONDS = 0
    assert _reason(app_client) == "outside_coverage"


def test_definitions__version_bumped__reloaded_on_next_call(
    app_client, django_capture_on_commit_callbacks
):
    from experiments.services.definitions_cache import definitions_changed

    started_experiment(key="cached")
    assert _reason(app_client) == "hashed"
    with django_capture_on_commit_callbacks(execute=True):
        Experiment.objects.filter(key="cached").update(coverage=0.0)
        definitions_changed()
    assert _reason(app_client) == "outside_coverage"
