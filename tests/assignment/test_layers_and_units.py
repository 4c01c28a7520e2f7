"""Layers keep experiments' units disjoint; account-level experiments assign whole accounts."""

from __future__ import annotations

import pytest

from assignment.models import Exposure
from experiments.models import Experiment
from tests.factories import LayerFactory, started_experiment

pytestmark = pytest.mark.django_db


def _assign(client, unit_id, keys, **attributes):
    body = {"unit_id": unit_id, "experiments": keys, "attributes": attributes}
    response = client.post("/api/v1/assign", body, format="json")
    assert response.status_code == 200
    return {a["experiment"]: a for a in response.json()["assignments"]}


def test_layer__two_experiments__no_unit_in_both_and_each_unit_in_one(app_client):
    layer = LayerFactory(key="pricing-page")
    a = started_experiment(key="price-a", layer=layer, layer_share=0.5)
    b = started_experiment(key="price-b", layer=layer, layer_share=0.5)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.layer_start, a.layer_end, b.layer_start, b.layer_end) == (0.0, 0.5, 0.5, 1.0)
    in_a = in_b = 0
    for i in range(600):
        answers = _assign(app_client, f"user-{i}", ["price-a", "price-b"])
        reasons = {answers["price-a"]["reason"], answers["price-b"]["reason"]}
        assert reasons == {"hashed", "outside_layer"}
        in_a += answers["price-a"]["in_experiment"]
        in_b += answers["price-b"]["in_experiment"]
    assert 240 < in_a < 360
    assert in_a + in_b == 600
    units_a = set(Exposure.objects.filter(experiment=a).values_list("unit_id", flat=True))
    units_b = set(Exposure.objects.filter(experiment=b).values_list("unit_id", flat=True))
    assert not units_a & units_b
    assert len(units_a) == in_a
    assert len(units_b) == in_b


def test_layer__slice_smaller_than_layer__rest_outside_layer(app_client):
    layer = LayerFactory(key="onboarding")
    started_experiment(key="onb", layer=layer, layer_share=0.2)
    answers = [
        _assign(
            app_client,
            f"u{i}",
            ["onb"],
        )["onb"]
        for i in range(500)
    ]
    outside = sum(a["reason"] == "outside_layer" for a in answers)
    assert 340 < outside < 460
    assert all(a["variant"] == "control" for a in answers if a["reason"] == "outside_layer")


def test_account_unit__users_of_one_account__one_variant_per_account(app_client):
    exp = started_experiment(key="acct-price", unit_attribute="account_id")
    by_account: dict[str, set[str]] = {}
    for account in range(30):
        for user in range(5):
            answer = _assign(
                app_client, f"user-{account}-{user}", ["acct-price"], account_id=f"acct-{account}"
            )["acct-price"]
            assert answer["reason"] == "hashed"
            by_account.setdefault(f"acct-{account}", set()).add(answer["variant"])
    assert all(len(variants) == 1 for variants in by_account.values())
    variants_seen = {next(iter(v)) for v in by_account.values()}
    assert variants_seen == {"control", "treatment"}
    exposures = Exposure.objects.filter(experiment=exp)
    assert exposures.count() == 150
    assert all(e.bucket_id == e.attributes["account_id"] for e in exposures)
    assert Experiment.objects.get(pk=exp.pk).unit_attribute == "account_id"
