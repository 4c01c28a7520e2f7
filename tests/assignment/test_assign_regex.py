"""A catastrophic ``$regex`` stored before the rule (or written to the database directly) costs
the assign API microseconds, not a worker (issue #21)."""

from __future__ import annotations

import time

import pytest

from experiments.models import Experiment
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db
CATASTROPHIC = {"country": {"$regex": "(a+)+$"}}


def _assign(client, **attributes):
    start = time.perf_counter()
    response = client.post(
        "/api/v1/assign",
        {"unit_id": "u1", "experiments": ["evil"], "attributes": attributes},
        format="json",
    )
    return response, time.perf_counter() - start


def test_assign__catastrophic_regex_stored_in_database__200_quickly(app_client):
    experiment = started_experiment(key="evil")
    Experiment.objects.filter(pk=experiment.pk).update(targeting=CATASTROPHIC)  # no validation
    _assign(app_client, country="x")  # the first request of a process loads what it needs
    response, elapsed = _assign(app_client, country="a" * 40 + "!")
    assert response.status_code == 200, response.content
    [answer] = response.json()["assignments"]
    assert answer["reason"] == "not_targeted"
    # A backtracking matcher needs hours here; RE2 about a microsecond. The bound only allows
    # for a slow shared machine.
    assert elapsed < 1.0


def test_assign__catastrophic_regex_stored_in_database__still_targets(app_client):
    experiment = started_experiment(key="evil")
    Experiment.objects.filter(pk=experiment.pk).update(targeting=CATASTROPHIC)
    response, _elapsed = _assign(app_client, country="baaa")
    [answer] = response.json()["assignments"]
    assert answer["reason"] == "hashed"
