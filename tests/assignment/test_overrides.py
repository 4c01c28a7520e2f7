"""QA overrides: managing them through the API, and forced assignments."""

from __future__ import annotations

import pytest

from assignment.models import Exposure
from core.actors import Actor
from experiments.models import AuditLogEntry
from experiments.services.lifecycle import experiment_transition
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
URL = "/api/v1/experiments/{}/overrides"


def _assign(client, unit_id, key, **attributes):
    body = {"unit_id": unit_id, "experiments": [key], "attributes": attributes}
    response = client.post("/api/v1/assign", body, format="json")
    assert response.status_code == 200
    return response.json()["assignments"][0]


def _force(client, key, unit_id, variant, note=""):
    return client.post(
        URL.format(key), {"unit_id": unit_id, "variant": variant, "note": note}, format="json"
    )


def test_override_api__set_list_replace_delete__audited(editor, viewer):
    ready_experiment(key="qa")
    created = _force(editor, "qa", "qa-tester-1", "treatment", note="checkout QA")
    assert created.status_code == 201
    assert created.json()["unit_id"] == "qa-tester-1"
    assert created.json()["variant"] == "treatment"
    replaced = _force(editor, "qa", "qa-tester-1", "control")
    assert replaced.status_code == 200
    listed = viewer.get(URL.format("qa")).json()
    assert [(o["unit_id"], o["variant"]) for o in listed] == [("qa-tester-1", "control")]
    assert editor.delete(URL.format("qa") + "/qa-tester-1").status_code == 204
    assert viewer.get(URL.format("qa")).json() == []
    actions = list(
        AuditLogEntry.objects.filter(experiment__key="qa")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["override_set", "override_set", "override_delete"]
    last = AuditLogEntry.objects.filter(action="override_delete").get()
    assert last.before == {"unit_id": "qa-tester-1", "variant": "control", "note": ""}


def test_override_api__unit_id_with_slash__deletable(editor):
    ready_experiment(key="qa")
    assert _force(editor, "qa", "team/alice", "treatment").status_code == 201
    assert editor.delete(URL.format("qa") + "/team/alice").status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"unit_id": "u1", "variant": "nope"}, "variant"),
        ({"unit_id": "", "variant": "control"}, "unit_id"),
        ({"unit_id": "x" * 257, "variant": "control"}, "unit_id"),
        ({"variant": "control"}, "unit_id"),
        ({"unit_id": "u1"}, "variant"),
    ],
)
def test_override_api__bad_input__400_and_nothing_stored(editor, body, field):
    exp = ready_experiment(key="qa")
    response = editor.post(URL.format("qa"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not exp.overrides.exists()


def test_override_api__unknown_experiment_or_unit__404(editor):
    ready_experiment(key="qa")
    assert _force(editor, "missing", "u1", "control").status_code == 404
    assert editor.delete(URL.format("qa") + "/nobody").status_code == 404


def test_override_api__viewer_and_app_keys__may_not_write(viewer, app_client):
    ready_experiment(key="qa")
    assert _force(viewer, "qa", "u1", "control").status_code == 403
    assert _force(app_client, "qa", "u1", "control").status_code == 403
    assert app_client.get(URL.format("qa")).status_code == 403


def test_override_api__archived_experiment__400(editor):
    exp = ready_experiment(key="qa")
    experiment_transition(actor=Actor.system(), experiment=exp, action="archive")
    assert _force(editor, "qa", "u1", "control").status_code == 400


def test_assign__overridden_unit__forced_variant_recorded_as_forced(editor, app_client):
    exp = started_experiment(key="qa")
    for i in range(10):
        _force(editor, "qa", f"qa-{i}", "treatment")
    for i in range(10):
        answer = _assign(app_client, f"qa-{i}", "qa")
        assert (answer["variant"], answer["reason"], answer["in_experiment"]) == (
            "treatment",
            "forced",
            True,
        )
    exposures = Exposure.objects.filter(experiment=exp)
    assert exposures.count() == 10
    assert all(e.forced and e.variant.key == "treatment" for e in exposures)


def test_assign__override_beats_targeting_and_paused_status__not_recorded_when_paused(
    editor, app_client, django_capture_on_commit_callbacks
):
    exp = started_experiment(key="qa", targeting={"country": "SG"})
    _force(editor, "qa", "qa-1", "treatment")
    assert _assign(app_client, "qa-1", "qa", country="US")["reason"] == "forced"
    with django_capture_on_commit_callbacks(execute=True):
        experiment_transition(actor=Actor.system(), experiment=exp, action="pause")
    answer = _assign(app_client, "qa-1", "qa", country="US")
    assert (answer["variant"], answer["reason"]) == ("treatment", "forced")
    assert _assign(app_client, "qa-2", "qa", country="SG")["reason"] == "paused"
    assert Exposure.objects.filter(experiment=exp).count() == 1


def test_assign__override_on_draft__previews_without_recording(editor, app_client):
    ready_experiment(key="qa")
    _force(editor, "qa", "qa-1", "treatment")
    assert _assign(app_client, "qa-1", "qa")["reason"] == "forced"
    assert _assign(app_client, "qa-2", "qa")["reason"] == "not_running"
    assert not Exposure.objects.exists()


def test_assign__override_on_account_id__forces_every_user_of_the_account(editor, app_client):
    started_experiment(key="acct", unit_attribute="account_id")
    _force(editor, "acct", "acme", "treatment")
    for user in ("alice", "bob"):
        answer = _assign(app_client, user, "acct", account_id="acme")
        assert (answer["variant"], answer["reason"]) == ("treatment", "forced")


def test_assign__override_added_or_removed__served_without_restart(
    editor, app_client, django_capture_on_commit_callbacks
):
    started_experiment(key="qa")
    assert _assign(app_client, "qa-1", "qa")["reason"] == "hashed"
    with django_capture_on_commit_callbacks(execute=True):
        _force(editor, "qa", "qa-1", "treatment")
    assert _assign(app_client, "qa-1", "qa")["reason"] == "forced"
    with django_capture_on_commit_callbacks(execute=True):
        editor.delete(URL.format("qa") + "/qa-1")
    assert _assign(app_client, "qa-1", "qa")["reason"] == "hashed"
