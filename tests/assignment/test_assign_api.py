"""The assign API: answers, reasons, payloads and the two request forms."""

from __future__ import annotations

import pytest

from assignment.hashing import hash_fraction
from assignment.models import Exposure
from core.actors import Actor
from experiments.models import Experiment
from experiments.services.lifecycle import experiment_transition
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _assign(client, unit_id="u1", **body):
    response = client.post("/api/v1/assign", {"unit_id": unit_id, **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _one(client, unit_id="u1", **body):
    [answer] = _assign(client, unit_id, **body)["assignments"]
    return answer


def _act(experiment: Experiment, action: str, **params) -> Experiment:
    return experiment_transition(actor=SYSTEM, experiment=experiment, action=action, params=params)


def test_assign__running_experiment__hashed_variant_with_payload_and_exposure(app_client):
    exp = started_experiment(key="checkout-flow")
    body = _assign(app_client, "user-1", experiments=["checkout-flow"])
    assert body["unit_id"] == "user-1"
    [answer] = body["assignments"]
    assert answer["experiment"] == "checkout-flow"
    assert answer["reason"] == "hashed"
    assert answer["in_experiment"] is True
    assert answer["variant"] in ("control", "treatment")
    assert answer["payload"] == {"variant": answer["variant"]}
    exposure = Exposure.objects.get(experiment=exp, unit_id="user-1")
    assert exposure.variant.key == answer["variant"]
    assert exposure.phase == 1
    assert exposure.bucket_id == "user-1"
    assert exposure.forced is False


def test_assign__same_unit_many_times__same_variant_and_one_exposure(app_client):
    exp = started_experiment(key="stable")
    variants = {_one(app_client, "user-7", experiments=["stable"])["variant"] for _ in range(5)}
    assert len(variants) == 1
    assert Exposure.objects.filter(experiment=exp).count() == 1


def test_assign__many_units__split_roughly_by_weight(app_client):
    started_experiment(key="split")
    counts = {"control": 0, "treatment": 0}
    for i in range(400):
        counts[_one(app_client, f"unit-{i}", experiments=["split"], track=False)["variant"]] += 1
    assert 150 < counts["control"] < 250


def test_assign__no_experiments_listed__answers_every_live_experiment(app_client):
    started_experiment(key="b-running")
    _act(started_experiment(key="a-paused"), "pause")
    ready_experiment(key="c-draft")
    _act(_act(started_experiment(key="d-stopped"), "stop"), "conclude", decision="keep_control")
    answers = _assign(app_client, "u1")["assignments"]
    assert [a["experiment"] for a in answers] == ["a-paused", "b-running"]


def test_assign__draft_experiment__not_running_without_payload(app_client):
    ready_experiment(key="drafty")
    answer = _one(app_client, experiments=["drafty"])
    assert answer == {
        "experiment": "drafty",
        "variant": None,
        "payload": None,
        "in_experiment": False,
        "reason": "not_running",
    }
    assert not Exposure.objects.exists()


def test_assign__archived_experiment__not_running(app_client):
    _act(ready_experiment(key="old"), "archive")
    assert _one(app_client, experiments=["old"])["reason"] == "not_running"
    response = app_client.get("/api/v1/assign/old?unit_id=u1")
    assert response.status_code == 200
    assert response.json()["reason"] == "not_running"


def test_assign__paused_experiment__control_payload_and_nothing_recorded(app_client):
    exp = _act(started_experiment(key="paused-one"), "pause")
    for i in range(20):
        answer = _one(app_client, f"u{i}", experiments=["paused-one"])
        assert answer["reason"] == "paused"
        assert answer["in_experiment"] is False
        assert answer["variant"] == "control"
        assert answer["payload"] == {"variant": "control"}
    assert not Exposure.objects.filter(experiment=exp).exists()


def test_assign__stopped_with_shipped_winner__winner_payload_and_nothing_recorded(app_client):
    exp = _act(
        _act(started_experiment(key="shipped"), "stop"),
        "conclude",
        decision="ship",
        winner="treatment",
    )
    for i in range(20):
        answer = _one(app_client, f"u{i}", experiments=["shipped"])
        assert answer["reason"] == "not_running"
        assert answer["variant"] == "treatment"
        assert answer["payload"] == {"variant": "treatment"}
    assert not Exposure.objects.filter(experiment=exp).exists()


@pytest.mark.parametrize("decision", [None, "keep_control", "inconclusive"])
def test_assign__stopped_without_winner__control_payload(app_client, decision):
    exp = _act(started_experiment(key="ended"), "stop")
    if decision:
        _act(exp, "conclude", decision=decision)
    for i in range(10):
        answer = _one(app_client, f"u{i}", experiments=["ended"])
        assert (answer["variant"], answer["reason"]) == ("control", "not_running")
    assert not Exposure.objects.exists()


def test_assign__targeting_not_matched__not_targeted_and_control(app_client):
    started_experiment(key="sg-only", targeting={"country": {"$in": ["SG", "CN"]}})
    out = _one(app_client, experiments=["sg-only"], attributes={"country": "US"})
    assert (out["reason"], out["in_experiment"], out["variant"]) == (
        "not_targeted",
        False,
        "control",
    )
    inside = _one(app_client, experiments=["sg-only"], attributes={"country": "SG"})
    assert inside["reason"] == "hashed"
    assert Exposure.objects.count() == 1


def test_assign__targeting_on_user_id__uses_unit_id(app_client):
    started_experiment(key="staff", targeting={"user_id": {"$regex": "^staff-"}})
    assert _one(app_client, "staff-1", experiments=["staff"])["reason"] == "hashed"
    assert _one(app_client, "guest-1", experiments=["staff"])["reason"] == "not_targeted"


def test_assign__coverage_below_one__outside_units_get_outside_coverage(app_client):
    exp = started_experiment(key="half", coverage=0.5)
    answers = [_one(app_client, f"u{i}", experiments=["half"]) for i in range(200)]
    for i, answer in enumerate(answers):
        n = hash_fraction(exp.hash_seed, f"u{i}")
        # Ranges with coverage 0.5 and equal weights: [0, 0.25) and [0.5, 0.75).
        expected_in = n < 0.25 or 0.5 <= n < 0.75
        assert answer["in_experiment"] is expected_in
        assert answer["reason"] == ("hashed" if expected_in else "outside_coverage")
        if not expected_in:
            assert answer["variant"] == "control"
    assert Exposure.objects.count() == sum(a["in_experiment"] for a in answers)


def test_assign__account_unit_without_account_id__missing_unit_attribute(app_client):
    started_experiment(key="acct", unit_attribute="account_id")
    for attributes in ({}, {"account_id": ""}, {"account_id": None}, {"account_id": True}):
        answer = _one(app_client, experiments=["acct"], attributes=attributes)
        assert answer["reason"] == "missing_unit_attribute"
        assert answer["in_experiment"] is False
    assert not Exposure.objects.exists()


def test_assign__unknown_key_in_batch__per_item_reason(app_client):
    started_experiment(key="known")
    body = _assign(app_client, experiments=["nope", "known", "known"])
    assert [a["experiment"] for a in body["assignments"]] == ["nope", "known"]
    assert body["assignments"][0] == {
        "experiment": "nope",
        "variant": None,
        "payload": None,
        "in_experiment": False,
        "reason": "unknown_experiment",
    }
    assert body["assignments"][1]["reason"] == "hashed"


def test_assign_get__one_experiment__flat_answer_and_exposure(app_client):
    exp = started_experiment(key="single")
    response = app_client.get("/api/v1/assign/single", {"unit_id": "u9", "country": "SG"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"unit_id", "experiment", "variant", "payload", "in_experiment", "reason"}
    assert body["unit_id"] == "u9"
    assert body["reason"] == "hashed"
    exposure = Exposure.objects.get(experiment=exp)
    assert exposure.attributes == {"country": "SG"}
    post = _one(app_client, "u9", experiments=["single"])
    assert post["variant"] == body["variant"]


def test_assign_get__unknown_key__404(app_client):
    response = app_client.get("/api/v1/assign/missing?unit_id=u1")
    assert response.status_code == 404
    assert "missing" in response.json()["detail"]


def test_assign_get__typed_query_values__targeting_compares_numbers_and_booleans(app_client):
    started_experiment(key="typed", targeting={"age": {"$gte": 18}, "pro": True, "plan": "007"})
    ok = app_client.get("/api/v1/assign/typed?unit_id=u1&age=21&pro=true&plan=007")
    assert ok.json()["reason"] == "hashed"
    young = app_client.get("/api/v1/assign/typed?unit_id=u1&age=12&pro=true&plan=007")
    assert young.json()["reason"] == "not_targeted"
    not_pro = app_client.get("/api/v1/assign/typed?unit_id=u1&age=21&pro=false&plan=007")
    assert not_pro.json()["reason"] == "not_targeted"


def test_assign_get__numeric_account_id__same_bucket_as_post(app_client):
    started_experiment(key="acct-num", unit_attribute="account_id")
    post = _one(app_client, "u1", experiments=["acct-num"], attributes={"account_id": 12345})
    get = app_client.get("/api/v1/assign/acct-num?unit_id=u2&account_id=12345").json()
    assert get["variant"] == post["variant"]
    assert set(Exposure.objects.values_list("bucket_id", flat=True)) == {"12345"}


def test_assign__track_false__answers_without_recording(app_client):
    started_experiment(key="preview")
    answer = _one(app_client, experiments=["preview"], track=False)
    assert answer["in_experiment"] is True
    response = app_client.get("/api/v1/assign/preview?unit_id=u2&track=false")
    assert response.json()["in_experiment"] is True
    assert not Exposure.objects.exists()


def test_assign__roles__app_editor_admin_allowed_viewer_and_anonymous_refused(client_for):
    started_experiment(key="perm")
    for role in ("app", "editor", "admin"):
        assert (
            client_for(role).post("/api/v1/assign", {"unit_id": "u"}, format="json").status_code
            == 200
        )
    assert (
        client_for("viewer").post("/api/v1/assign", {"unit_id": "u"}, format="json").status_code
        == 403
    )
    assert (
        client_for(None).post("/api/v1/assign", {"unit_id": "u"}, format="json").status_code == 401
    )
    assert client_for(None).get("/api/v1/assign/perm?unit_id=u").status_code == 401


def test_assign__staff_session__same_answers_and_errors_as_with_a_key(
    app_client, django_user_model
):
    from rest_framework.test import APIClient

    started_experiment(key="sess")
    staff = APIClient()
    staff.force_login(django_user_model.objects.create_user("qa", is_staff=True))
    with_key = _one(app_client, "u5", experiments=["sess"], track=False)
    with_session = _one(staff, "u5", experiments=["sess"], track=False)
    assert with_session == with_key
    bad_key = app_client.post("/api/v1/assign", {"unit_id": ""}, format="json")
    bad_session = staff.post("/api/v1/assign", {"unit_id": ""}, format="json")
    assert bad_key.status_code == bad_session.status_code == 400
    assert bad_key.json() == bad_session.json()
    missing_key = app_client.get("/api/v1/assign/nope?unit_id=u1")
    missing_session = staff.get("/api/v1/assign/nope?unit_id=u1")
    assert missing_key.status_code == missing_session.status_code == 404
    assert missing_key.json() == missing_session.json()


def test_assign__non_staff_session_or_unknown_key__refused(client_for, django_user_model):
    from rest_framework.test import APIClient

    started_experiment(key="sess")
    person = APIClient()
    person.force_login(django_user_model.objects.create_user("someone"))
    assert person.post("/api/v1/assign", {"unit_id": "u"}, format="json").status_code == 403
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer vk_not_a_key")
    assert stranger.post("/api/v1/assign", {"unit_id": "u"}, format="json").status_code == 401


def test_assign__wrong_method__405(app_client):
    assert app_client.get("/api/v1/assign").status_code == 405
    assert app_client.post("/api/v1/assign/x?unit_id=u", {}, format="json").status_code == 405


def test_assign__openapi_schema__documents_both_forms(editor):
    response = editor.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/assign"]
    assert "get" in paths["/api/v1/assign/{experiment_key}"]
