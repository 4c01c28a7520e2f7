"""The SDK payload endpoint: client keys, the features format, ETags and caching."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.actors import Actor
from core.api_keys import api_key_create, api_key_revoke
from experiments.models import Variant
from experiments.services.lifecycle import experiment_transition
from experiments.services.overrides import override_set
from tests.factories import LayerFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def client_key() -> str:
    return api_key_create(name="web", role="client")[1]


def _get(key: str, **headers: str):
    return APIClient().get(f"/api/v1/sdk/{key}/features", **headers)


def test_sdk_payload__running_experiment__feature_with_experiment_rule(client_key):
    exp = ready_experiment(
        key="pricing", coverage=0.8, variants=("control", "b"), targeting={"country": "CN"}
    )
    Variant.objects.filter(experiment=exp, key="b").update(weight=3)
    exp = experiment_transition(actor=ACTOR, experiment=exp, action="start")
    response = _get(client_key)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"features", "dateUpdated"}
    feature = body["features"]["pricing"]
    assert feature["defaultValue"] == {"variant": "control"}
    [rule] = feature["rules"]
    assert rule["key"] == "pricing"
    assert rule["variations"] == [{"variant": "control"}, {"variant": "b"}]
    assert rule["weights"] == [0.25, 0.75]
    assert rule["coverage"] == 0.8
    assert rule["hashAttribute"] == "user_id"
    assert rule["hashVersion"] == 2
    assert rule["seed"] == exp.hash_seed
    assert rule["condition"] == {"country": "CN"}
    assert rule["meta"] == [{"key": "control", "name": "control"}, {"key": "b", "name": "b"}]
    assert rule["phase"] == "1"
    assert "namespace" not in rule


def test_sdk_payload__layer__namespace_with_slice(client_key):
    layer = LayerFactory(key="checkout")
    exp = started_experiment(key="in-layer", layer=layer, layer_share=0.3)
    rule = _get(client_key).json()["features"]["in-layer"]["rules"][0]
    assert rule["namespace"] == ["checkout", exp.layer_start, exp.layer_end]
    assert rule["namespace"][2] - rule["namespace"][1] == pytest.approx(0.3)


def test_sdk_payload__overrides__force_rules_before_experiment_rule(client_key):
    exp = started_experiment(key="qa")
    override_set(actor=ACTOR, experiment=exp, unit_id="tester", variant_key="treatment")
    rules = _get(client_key).json()["features"]["qa"]["rules"]
    assert rules[0]["condition"] == {"user_id": {"$in": ["tester"]}}
    assert rules[0]["force"] == {"variant": "treatment"}
    assert rules[-1]["key"] == "qa"


def test_sdk_payload__paused_stopped_concluded_draft__no_experiment_rule(client_key):
    paused = started_experiment(key="paused")
    experiment_transition(actor=ACTOR, experiment=paused, action="pause")
    stopped = started_experiment(key="stopped")
    experiment_transition(actor=ACTOR, experiment=stopped, action="stop")
    shipped = started_experiment(key="shipped")
    shipped = experiment_transition(actor=ACTOR, experiment=shipped, action="stop")
    experiment_transition(
        actor=ACTOR,
        experiment=shipped,
        action="conclude",
        params={"decision": "ship", "winner": "treatment"},
    )
    ready_experiment(key="draft")
    features = _get(client_key).json()["features"]
    assert features["paused"] == {"defaultValue": {"variant": "control"}}
    assert features["stopped"] == {"defaultValue": {"variant": "control"}}
    assert features["shipped"] == {"defaultValue": {"variant": "treatment"}}
    assert "draft" not in features


def test_sdk_payload__if_none_match__304_until_an_experiment_changes(
    client_key, django_capture_on_commit_callbacks
):
    exp = started_experiment(key="etag")
    first = _get(client_key)
    etag = first["ETag"]
    assert etag.startswith('"')
    again = _get(client_key, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    with django_capture_on_commit_callbacks(execute=True):
        experiment_transition(actor=ACTOR, experiment=exp, action="pause")
    changed = _get(client_key, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "rules" not in changed.json()["features"]["etag"]


def test_sdk_payload__growthbook_path__same_payload(client_key):
    started_experiment(key="alias")
    ours = _get(client_key)
    theirs = APIClient().get(f"/api/features/{client_key}")
    assert theirs.status_code == 200
    assert theirs.content == ours.content
    assert theirs["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("role", ["app", "admin", "viewer"])
def test_sdk_payload__non_client_key_in_url__401_like_an_unknown_key(role):
    raw = api_key_create(name="secret", role=role)[1]
    response = _get(raw)
    assert response.status_code == 401
    assert "client" in response.json()["detail"]
    assert response.json() == _get("vk_not_a_key").json()


def test_sdk_payload__unknown_or_revoked_key__401(client_key):
    assert _get("vk_nope").status_code == 401
    key = api_key_create(name="gone", role="client")
    api_key_revoke(key=key[0])
    assert _get(key[1]).status_code == 401


def test_sdk_payload__post__405(client_key):
    assert APIClient().post(f"/api/v1/sdk/{client_key}/features").status_code == 405


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/experiments"),
        ("post", "/api/v1/assign"),
        ("post", "/api/v1/events"),
        ("post", "/api/v1/exposures"),
    ],
)
def test_client_key__any_other_endpoint__403(client_key, method, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client_key}")
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_sdk_payload__cached__no_database_query(client_key, django_assert_num_queries):
    started_experiment(key="cached")
    first = _get(client_key)
    with django_assert_num_queries(0):
        second = _get(client_key)
    assert second.content == first.content


def test_create_api_key__client_role__prints_payload_path():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_key", "website", "--role", "client", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert f"/api/v1/sdk/{raw}/features" in out.getvalue()
    assert _get(raw).status_code == 200
