"""POST /api/v1/exposures: exposures reported by SDKs evaluating the payload locally."""

from __future__ import annotations

import datetime as dt

import pytest

from assignment.hashing import choose_variation, hash_fraction
from assignment.models import Exposure
from core.actors import Actor
from experiments.services.lifecycle import experiment_transition
from experiments.services.overrides import override_set
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db
URL = "/api/v1/exposures"
ACTOR = Actor.system("test")


def _variant(key: str, unit_id: str) -> str:
    """The variant by hashing alone (two equal variants, full coverage): independent of assign."""
    index = choose_variation(hash_fraction(key, unit_id), [(0, 0.5), (0.5, 1.0)])
    return ("control", "treatment")[index]


def _post(client, *items):
    return client.post(URL, {"exposures": list(items)}, format="json")


def test_exposures__right_variant__stored_once_then_duplicate(app_client):
    started_experiment(key="checkout")
    seen_at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0)
    item = {
        "unit_id": "u-1",
        "experiment": "checkout",
        "variant": _variant("checkout", "u-1"),
        "timestamp": seen_at.isoformat(),
        "attributes": {"user_id": "u-1", "country": "CN"},
    }
    first = _post(app_client, item)
    assert first.status_code == 200
    assert first.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    again = _post(app_client, item, item)
    assert again.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    [row] = Exposure.objects.all()
    assert row.variant.key == item["variant"]
    assert row.attributes == {"user_id": "u-1", "country": "CN"}
    assert row.first_exposed_at == seen_at


def test_exposures__same_unit_twice_in_batch__one_row(app_client):
    started_experiment(key="checkout")
    item = {
        "unit_id": "用户42",
        "experiment": "checkout",
        "variant": _variant("checkout", "用户42"),
    }
    assert _post(app_client, item, item).json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert Exposure.objects.count() == 1


def test_exposures__wrong_variant__rejected_and_counted(app_client, viewer):
    started_experiment(key="checkout")
    wrong = "control" if _variant("checkout", "u-1") == "treatment" else "treatment"
    good = {"unit_id": "u-2", "experiment": "checkout", "variant": _variant("checkout", "u-2")}
    body = _post(app_client, {"unit_id": "u-1", "experiment": "checkout", "variant": wrong}, good)
    answer = body.json()
    assert answer["accepted"] == 1
    [rejection] = answer["rejected"]
    assert rejection["index"] == 0
    assert rejection["reason"].startswith("variant_mismatch")
    assert wrong in rejection["reason"]
    assert list(Exposure.objects.values_list("unit_id", flat=True)) == ["u-2"]
    health = viewer.get(f"{URL}/rejections/checkout").json()
    assert health == {"experiment": "checkout", "phase": 1, "rejected": {"variant_mismatch": 1}}


def test_exposures__paused_experiment__rejected_not_running_and_counted(app_client, viewer):
    exp = started_experiment(key="paused")
    experiment_transition(actor=ACTOR, experiment=exp, action="pause")
    item = {"unit_id": "u-1", "experiment": "paused", "variant": _variant("paused", "u-1")}
    answer = _post(app_client, item, item).json()
    assert [r["reason"].split(":")[0] for r in answer["rejected"]] == ["not_running"] * 2
    assert Exposure.objects.count() == 0
    assert viewer.get(f"{URL}/rejections/paused").json()["rejected"] == {"not_running": 2}


def test_exposures__forced_unit__stored_as_forced(app_client):
    exp = started_experiment(key="qa")
    override_set(actor=ACTOR, experiment=exp, unit_id="tester", variant_key="treatment")
    answer = _post(app_client, {"unit_id": "tester", "experiment": "qa", "variant": "treatment"})
    assert answer.json()["accepted"] == 1
    assert Exposure.objects.get().forced is True


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("not an object", "exposure must be a JSON object"),
        ({"experiment": "checkout", "variant": "control"}, "missing required field(s): unit_id"),
        ({"unit_id": "u", "experiment": "nope", "variant": "control"}, 'unknown experiment "nope"'),
        ({"unit_id": "u", "experiment": "checkout", "variant": "control", "x": 1}, "unknown"),
        (
            {"unit_id": "u", "experiment": "checkout", "variant": "a", "timestamp": "yesterday"},
            "timestamp must be an ISO-8601",
        ),
        (
            {"unit_id": "u", "experiment": "checkout", "variant": "a", "attributes": {"a": {}}},
            "attributes",
        ),
        ({"unit_id": " ", "experiment": "checkout", "variant": "a"}, "unit_id"),
    ],
)
def test_exposures__bad_item__rejected_by_index_others_kept(app_client, item, reason):
    started_experiment(key="checkout")
    good = {"unit_id": "u-2", "experiment": "checkout", "variant": _variant("checkout", "u-2")}
    answer = _post(app_client, good, item).json()
    assert answer["accepted"] == 1
    [rejection] = answer["rejected"]
    assert rejection["index"] == 1
    assert reason in rejection["reason"]


@pytest.mark.parametrize(
    "body",
    [{"exposures": []}, {"exposures": "x"}, {"items": []}, [1], {"exposures": [{}] * 1001}],
)
def test_exposures__bad_batch__400_with_field(app_client, body):
    response = app_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "exposures" in response.json()


def test_exposures__viewer_or_client_key__403(viewer, client_for):
    started_experiment(key="checkout")
    item = {"unit_id": "u-1", "experiment": "checkout", "variant": "control"}
    assert _post(viewer, item).status_code == 403
    assert _post(client_for("client"), item).status_code == 403
    assert Exposure.objects.count() == 0
