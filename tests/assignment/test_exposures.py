"""Exposures: stored before the answer, once per unit and phase, flagged when variants differ."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from assignment.hashing import hash_fraction
from assignment.models import Exposure
from core.actors import Actor
from core.api_keys import api_key_create
from experiments.services.lifecycle import experiment_new_phase
from experiments.services.overrides import override_set
from tests.factories import started_experiment

SYSTEM = Actor.system("test")


def _assign(client, unit_id, key, **attributes):
    body = {"unit_id": unit_id, "experiments": [key], "attributes": attributes}
    response = client.post("/api/v1/assign", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["assignments"][0]


@pytest.mark.django_db
def test_exposure__repeated_calls__first_time_and_attributes_kept(app_client):
    exp = started_experiment(key="exp")
    _assign(app_client, "u1", "exp", country="SG", plan="free")
    first = Exposure.objects.get(experiment=exp)
    _assign(app_client, "u1", "exp", country="CN", plan="pro")
    again = Exposure.objects.get(experiment=exp)
    assert again.first_exposed_at == first.first_exposed_at
    assert again.attributes == {"country": "SG", "plan": "free"}
    assert again.multiple_variants is False


def _accounts_with_different_variants(salt: str) -> tuple[str, str]:
    """Two account ids that hash to different variants (equal weights, full coverage)."""
    by_half: dict[bool, str] = {}
    i = 0
    while len(by_half) < 2:
        account = f"acct-{i}"
        by_half.setdefault(hash_fraction(salt, account) < 0.5, account)
        i += 1
    return by_half[True], by_half[False]


@pytest.mark.django_db
def test_exposure__unit_later_gets_another_variant__flagged_multiple_variants(app_client):
    exp = started_experiment(key="acct", unit_attribute="account_id")
    control_account, treatment_account = _accounts_with_different_variants(exp.hash_seed)
    first = _assign(app_client, "user-1", "acct", account_id=control_account)
    second = _assign(app_client, "user-1", "acct", account_id=treatment_account)
    assert (first["variant"], second["variant"]) == ("control", "treatment")
    exposure = Exposure.objects.get(experiment=exp, unit_id="user-1")
    assert exposure.multiple_variants is True
    assert exposure.variant.key == "control"
    assert exposure.bucket_id == control_account
    other = _assign(app_client, "user-2", "acct", account_id=control_account)
    assert other["variant"] == "control"
    assert Exposure.objects.get(unit_id="user-2").multiple_variants is False


@pytest.mark.django_db
def test_exposure__override_after_exposure_to_other_variant__flagged_and_forced(
    app_client, django_capture_on_commit_callbacks
):
    exp = started_experiment(key="qa")
    hashed = _assign(app_client, "u1", "qa")["variant"]
    other = "treatment" if hashed == "control" else "control"
    with django_capture_on_commit_callbacks(execute=True):
        override_set(actor=SYSTEM, experiment=exp, unit_id="u1", variant_key=other)
    assert _assign(app_client, "u1", "qa")["variant"] == other
    exposure = Exposure.objects.get(experiment=exp)
    assert (exposure.variant.key, exposure.multiple_variants, exposure.forced) == (
        hashed,
        True,
        True,
    )


@pytest.mark.django_db
def test_new_phase__weights_changed__answers_change_without_restart_and_exposures_per_phase(
    app_client, django_capture_on_commit_callbacks
):
    exp = started_experiment(key="weights")
    units = [f"u{i}" for i in range(300)]
    before = Counter(_assign(app_client, u, "weights")["variant"] for u in units)
    assert 100 < before["treatment"] < 200
    with django_capture_on_commit_callbacks(execute=True):
        experiment_new_phase(
            actor=SYSTEM, experiment=exp, weights={"control": 1, "treatment": 9}, reason="ramp"
        )
    after = Counter(_assign(app_client, u, "weights")["variant"] for u in units)
    assert after["treatment"] > 240
    phases = Counter(Exposure.objects.filter(experiment=exp).values_list("phase", flat=True))
    assert phases == {1: 300, 2: 300}
    assert not Exposure.objects.filter(multiple_variants=True).exists()


@pytest.mark.django_db(transaction=True)
def test_exposure__already_recorded_unit__no_database_query(app_client, django_assert_num_queries):
    started_experiment(key="cheap")
    _assign(app_client, "warm-up", "cheap")  # loads definitions and the API key
    _assign(app_client, "u1", "cheap")
    with django_assert_num_queries(0):
        _assign(app_client, "u1", "cheap")
    with django_assert_num_queries(1):
        _assign(app_client, "u2", "cheap")
    assert Exposure.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_definitions__experiment_changed__next_call_sees_it(app_client):
    exp = started_experiment(key="live-change")
    assert _assign(app_client, "u1", "live-change")["reason"] == "hashed"
    experiment_new_phase(actor=SYSTEM, experiment=exp, coverage=0.0, reason="close the door")
    assert _assign(app_client, "u1", "live-change")["reason"] == "outside_coverage"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_exposure__concurrent_requests_for_one_unit__one_row_one_variant():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for concurrent writers")
    started_experiment(key="race")
    _, raw = api_key_create(name="race", role="app")
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker(round_no: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            barrier.wait()
            body = {"unit_id": f"racer-{round_no}", "experiments": ["race"]}
            response = client.post("/api/v1/assign", body, format="json")
            with lock:
                results.append((response.status_code, response.json()["assignments"][0]["variant"]))
        finally:
            connection.close()

    for round_no in range(5):
        barrier.reset()
        threads = [threading.Thread(target=worker, args=(round_no,)) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 5 * threads_n
    assert {code for code, _ in results} == {200}
    for round_no in range(5):
        rows = Exposure.objects.filter(unit_id=f"racer-{round_no}")
        assert rows.count() == 1
        assert rows.get().multiple_variants is False
