"""The Django admin writes through the services: each change is audited and bumps the definitions
version, or it is refused with a message and nothing is saved."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.test import Client

from assignment.models import Event, Exposure
from core.models import ApiKey
from experiments.models import (
    AuditLogEntry,
    Experiment,
    ExperimentStatus,
    Layer,
    Metric,
    Override,
    Variant,
)
from experiments.services.definitions_cache import definitions_version
from tests.factories import LayerFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
ADMIN = "/admin/experiments/"


@pytest.fixture
def staff(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def _value(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return "" if value is None else str(value)


def _add_form(data: dict[str, str], form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(field.widget, forms.MultiWidget):
            parts = value if isinstance(value, list) else field.widget.decompress(value)
            for i, part in enumerate(parts):
                data[f"{key}_{i}"] = _value(part)
        else:
            data[key] = _value(value)


def page_data(response: Any) -> dict[str, str]:
    """What a browser submits from an admin add or change page when nothing is edited."""
    assert response.status_code == 200
    data: dict[str, str] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _add_form(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _add_form(data, form)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def secrets_in(response: Any) -> list[str]:
    """Full API key secrets shown in the page's messages (a key's label shows its prefix only)."""
    return [s for m in messages_of(response) for s in re.findall(r"vk_[A-Za-z0-9_-]{20,}", m)]


def audit(action: str, key: str) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(action=action, object_key=key))


def run_action(staff: Client, action: str, *experiments: Experiment) -> Any:
    body = {"action": action, "_selected_action": [e.pk for e in experiments]}
    return staff.post(ADMIN + "experiment/", body, follow=True)


# Editing ----------------------------------------------------------------------------------


def test_admin_edit__running_targeting_and_plan__audited_plan_change_and_version_bump(
    staff, django_capture_on_commit_callbacks
):
    experiment = started_experiment(key="price")
    url = f"{ADMIN}experiment/{experiment.pk}/change/"
    data = page_data(staff.get(url))
    data["targeting"] = json.dumps({"country": {"$in": ["CN", "SG"]}})
    data["alpha"] = "0.01"
    version = definitions_version()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, data)
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.targeting == {"country": {"$in": ["CN", "SG"]}}
    assert experiment.alpha == 0.01
    [update] = audit("update", "price")
    assert update.actor_label == "admin"
    assert update.before["targeting"] == {}
    assert update.after["targeting"] == {"country": {"$in": ["CN", "SG"]}}
    [plan_change] = audit("plan_change", "price")
    assert plan_change.after["analysis_plan"]["alpha"] == 0.01
    assert definitions_version() == version + 1


def test_admin_edit__running_status_salt_winner_posted__ignored(staff):
    experiment = started_experiment(key="price")
    other = ready_experiment(key="other", variants=("a", "b"))
    url = f"{ADMIN}experiment/{experiment.pk}/change/"
    data = page_data(staff.get(url))
    data.update(
        status="concluded",
        salt="reshuffle",
        phase="7",
        decision="ship",
        winner=str(other.variants.get(key="b").pk),
        coverage="0.1",
    )
    staff.post(url, data)
    experiment.refresh_from_db()
    assert (experiment.status, experiment.hash_seed, experiment.phase) == ("running", "price", 1)
    assert (experiment.decision, experiment.winner, experiment.coverage) == ("", None, 1.0)


def test_admin_edit__invalid_targeting__form_error_nothing_saved(staff):
    experiment = started_experiment(key="price")
    url = f"{ADMIN}experiment/{experiment.pk}/change/"
    data = page_data(staff.get(url))
    data["targeting"] = json.dumps({"country": {"$bogus": 1}})
    response = staff.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["targeting"]
    experiment.refresh_from_db()
    assert experiment.targeting == {}
    assert not audit("update", "price")


def test_admin_edit__draft_variants_inline__written_by_service_with_audit(staff):
    experiment = ready_experiment(key="onboarding")
    url = f"{ADMIN}experiment/{experiment.pk}/change/"
    data = page_data(staff.get(url))
    treatment = next(k for k, v in data.items() if v == "treatment" and k.endswith("-key"))
    data[treatment.replace("-key", "-weight")] = "3"
    assert staff.post(url, data).status_code == 302
    assert Variant.objects.get(experiment=experiment, key="treatment").weight == 3.0
    [update] = audit("update", "onboarding")
    assert [v["weight"] for v in update.after["variants"]] == [1.0, 3.0]


def test_admin_add__experiment__created_by_service_owned_and_audited(staff, admin_user):
    data = page_data(staff.get(f"{ADMIN}experiment/add/"))
    data.update(key="new-flow", name="New flow", targeting="{}")
    data.update({"variants-TOTAL_FORMS": "2"})
    for i, key in enumerate(["control", "checklist"]):
        data.update({f"variants-{i}-key": key, f"variants-{i}-name": key})
        data.update({f"variants-{i}-weight": "1", f"variants-{i}-payload": "{}"})
        data[f"variants-{i}-position"] = str(i)
    data["variants-0-is_control"] = "on"
    assert staff.post(f"{ADMIN}experiment/add/", data).status_code == 302
    experiment = Experiment.objects.get(key="new-flow")
    assert experiment.owner == admin_user
    assert [v.key for v in experiment.variants.all()] == ["control", "checklist"]
    [created] = audit("create", "new-flow")
    assert created.after["variants"][0]["is_control"] is True


def test_admin_add__two_controls__refused_by_service_nothing_saved(staff):
    data = page_data(staff.get(f"{ADMIN}experiment/add/"))
    data.update(key="two-controls", name="Two controls", targeting="{}")
    data.update({"variants-TOTAL_FORMS": "2"})
    for i, key in enumerate(["a", "b"]):
        data.update({f"variants-{i}-key": key, f"variants-{i}-name": key})
        data.update({f"variants-{i}-weight": "1", f"variants-{i}-payload": "{}"})
        data.update({f"variants-{i}-position": str(i), f"variants-{i}-is_control": "on"})
    response = staff.post(f"{ADMIN}experiment/add/", data)
    assert response.status_code == 200
    assert "Exactly one variant must be the control" in response.content.decode()
    assert not Experiment.objects.filter(key="two-controls").exists()
    assert not AuditLogEntry.objects.exists()


# Lifecycle ---------------------------------------------------------------------------------


def test_admin_actions__start_pause_resume_stop_archive__statuses_and_audit(staff):
    experiment = ready_experiment(key="price")
    for action, status in [
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("stop", "stopped"),
        ("archive", "archived"),
    ]:
        response = run_action(staff, action, experiment)
        experiment.refresh_from_db()
        assert experiment.status == status, messages_of(response)
        [entry] = audit(action, "price")
        assert entry.actor_label == "admin"
        assert (entry.before["status"], entry.after["status"]) != (status, status)
    assert experiment.phases.count() == 1


def test_admin_action__not_allowed_now__message_and_status_kept(staff):
    experiment = ready_experiment(key="price")
    response = run_action(staff, "pause", experiment)
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    assert any("Cannot pause an experiment that is draft" in m for m in messages_of(response))
    assert not audit("pause", "price")


def test_admin_action__start_not_ready__service_reason_shown(staff):
    experiment = ready_experiment(key="lonely", variants=("control",))
    response = run_action(staff, "start", experiment)
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    assert any("at least two variants" in m for m in messages_of(response))


def _stopped(key: str) -> Experiment:
    experiment = started_experiment(key=key)
    experiment.status = ExperimentStatus.STOPPED
    experiment.save()
    return experiment


def test_admin_conclude__winner_of_another_experiment__refused(staff):
    experiment = _stopped("price")
    foreign = ready_experiment(key="other", variants=("a", "b")).variants.get(key="b")
    url = f"{ADMIN}experiment/{experiment.pk}/conclude/"
    page = staff.get(url)
    assert str(foreign.pk) not in [
        str(pk) for pk, _ in page.context["form"].fields["winner"].choices
    ]
    response = staff.post(url, {"decision": "ship", "winner": foreign.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["winner"]
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner) == ("stopped", None)
    assert not audit("conclude", "price")


def test_admin_conclude__ship_control__service_refusal_shown(staff):
    experiment = _stopped("price")
    control = experiment.variants.get(key="control")
    url = f"{ADMIN}experiment/{experiment.pk}/conclude/"
    response = staff.post(url, {"decision": "ship", "winner": control.pk})
    assert "Shipping the control is the decision keep_control" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "stopped"


def test_admin_conclude__own_variant__concluded_with_audit(
    staff, django_capture_on_commit_callbacks
):
    experiment = _stopped("price")
    treatment = experiment.variants.get(key="treatment")
    response = run_action(staff, "conclude", experiment)
    assert response.redirect_chain[-1][0].endswith(f"/experiment/{experiment.pk}/conclude/")
    version = definitions_version()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            f"{ADMIN}experiment/{experiment.pk}/conclude/",
            {"decision": "ship", "winner": treatment.pk, "review": "Won on conversion."},
        )
    experiment.refresh_from_db()
    assert (experiment.status, experiment.decision) == ("concluded", "ship")
    assert experiment.winner == treatment
    [entry] = audit("conclude", "price")
    assert entry.after["winner"] == "treatment"
    assert definitions_version() == version + 1


# Deleting ----------------------------------------------------------------------------------


def test_admin_delete__running_experiment__refused_exposures_kept(staff, app_client):
    experiment = started_experiment(key="price")
    Override.objects.create(
        experiment=experiment, unit_id="qa-1", variant=experiment.variants.first()
    )
    body = {"unit_id": "u-1", "experiments": ["price"], "attributes": {}}
    assert app_client.post("/api/v1/assign", body, format="json").status_code == 200
    assert Exposure.objects.filter(experiment=experiment).count() == 1
    url = f"{ADMIN}experiment/{experiment.pk}/delete/"
    response = staff.post(url, {"post": "yes"}, follow=True)
    assert any("only drafts can be deleted" in m for m in messages_of(response))
    assert Experiment.objects.filter(pk=experiment.pk).exists()
    assert Exposure.objects.filter(experiment=experiment).count() == 1
    assert experiment.overrides.count() == 1
    assert experiment.phases.count() == 1
    assert not audit("delete", "price")


def test_admin_bulk_delete__running_experiment__refused(staff):
    experiment = started_experiment(key="price")
    body = {"action": "delete_selected", "_selected_action": [experiment.pk], "post": "yes"}
    response = staff.post(ADMIN + "experiment/", body)
    assert response.status_code in (200, 403)
    assert Experiment.objects.filter(pk=experiment.pk).exists()


def test_admin_delete__draft__deleted_by_service_with_audit(staff):
    experiment = ready_experiment(key="draft-one")
    url = f"{ADMIN}experiment/{experiment.pk}/delete/"
    assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not Experiment.objects.filter(key="draft-one").exists()
    [entry] = audit("delete", "draft-one")
    assert entry.before["status"] == "draft"


def test_admin_bulk_delete__drafts__deleted_by_service_with_audit(staff):
    drafts = [ready_experiment(key=f"draft-{i}") for i in range(2)]
    body = {"action": "delete_selected", "_selected_action": [d.pk for d in drafts]}
    assert staff.post(ADMIN + "experiment/", body).status_code == 200  # confirmation page
    staff.post(ADMIN + "experiment/", {**body, "post": "yes"})
    assert not Experiment.objects.exists()
    assert len(AuditLogEntry.objects.filter(action="delete")) == 2


# Metrics, layers, overrides ----------------------------------------------------------------


def test_admin_metric__invalid_for_its_type__service_error_shown_nothing_saved(staff):
    data = page_data(staff.get(f"{ADMIN}metric/add/"))
    data.update(key="arpu", name="ARPU", type="mean", event="purchase", value_field="")
    response = staff.post(f"{ADMIN}metric/add/", data)
    assert response.status_code == 200
    assert "A mean metric needs the value field" in response.content.decode()
    assert not Metric.objects.filter(key="arpu").exists()


def test_admin_metric__create_and_edit__audited(staff):
    data = page_data(staff.get(f"{ADMIN}metric/add/"))
    data.update(key="arpu", name="ARPU", type="mean", event="purchase", value_field="revenue")
    assert staff.post(f"{ADMIN}metric/add/", data).status_code == 302
    metric = Metric.objects.get(key="arpu")
    url = f"{ADMIN}metric/{metric.pk}/change/"
    data = page_data(staff.get(url))
    data["window_hours"] = "72"
    assert staff.post(url, data).status_code == 302
    assert Metric.objects.get(key="arpu").window_hours == 72
    assert audit("create", "arpu")[0].after["value_field"] == "revenue"
    [update] = audit("update", "arpu")
    assert (update.before["window_hours"], update.after["window_hours"]) == (168, 72)


def test_admin_metric_delete__used_by_experiment__refused(staff):
    ready_experiment(key="price")
    metric = Metric.objects.get(key="conversion")
    response = staff.post(f"{ADMIN}metric/{metric.pk}/delete/", {"post": "yes"})
    assert response.status_code in (200, 403)
    assert Metric.objects.filter(key="conversion").exists()
    assert not audit("delete", "conversion")


def test_admin_layer__create_update_delete__audit_entries(staff):
    data = page_data(staff.get(f"{ADMIN}layer/add/"))
    data.update(key="checkout", name="Checkout")
    assert staff.post(f"{ADMIN}layer/add/", data).status_code == 302
    layer = Layer.objects.get(key="checkout")
    url = f"{ADMIN}layer/{layer.pk}/change/"
    data = page_data(staff.get(url))
    data["name"] = "Checkout flow"
    assert staff.post(url, data).status_code == 302
    assert staff.post(f"{ADMIN}layer/{layer.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Layer.objects.exists()
    entries = AuditLogEntry.objects.filter(object_type="layer", object_key="checkout")
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"create", "update", "delete"}
    assert by_action["create"].after["name"] == "Checkout"
    assert by_action["update"].before["name"] == "Checkout"
    assert by_action["update"].after["name"] == "Checkout flow"
    assert by_action["delete"].before["name"] == "Checkout flow"
    assert {e.actor_label for e in entries} == {"admin"}


def test_admin_layer_delete__used_by_experiment__refused(staff):
    layer = LayerFactory(key="checkout")
    ready_experiment(key="price", layer=layer)
    staff.post(f"{ADMIN}layer/{layer.pk}/delete/", {"post": "yes"})
    assert Layer.objects.filter(key="checkout").exists()
    assert not audit("delete", "checkout")


def test_admin_override__add__through_service_audited_version_bump(
    staff, django_capture_on_commit_callbacks
):
    experiment = started_experiment(key="price")
    treatment = experiment.variants.get(key="treatment")
    data = page_data(staff.get(f"{ADMIN}override/add/"))
    data.update(experiment=str(experiment.pk), unit_id="qa-1", variant=str(treatment.pk))
    version = definitions_version()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"{ADMIN}override/add/", data).status_code == 302
    assert Override.objects.get(unit_id="qa-1").variant == treatment
    [entry] = audit("override_set", "price")
    assert entry.after == {"unit_id": "qa-1", "variant": "treatment", "note": ""}
    assert definitions_version() == version + 1


def test_admin_override__variant_of_another_experiment__refused(staff):
    experiment = started_experiment(key="price")
    foreign = ready_experiment(key="other", variants=("a", "b")).variants.get(key="b")
    data = page_data(staff.get(f"{ADMIN}override/add/"))
    data.update(experiment=str(experiment.pk), unit_id="qa-1", variant=str(foreign.pk))
    response = staff.post(f"{ADMIN}override/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["variant"]
    assert not Override.objects.exists()


# API keys, data, audit log -----------------------------------------------------------------


def test_admin_api_key_add__usable_key_secret_shown_once(staff, client_for):
    response = staff.post(
        "/admin/core/apikey/add/", {"name": "growth team", "role": "editor"}, follow=True
    )
    key = ApiKey.objects.get(name="growth team")
    [secret] = secrets_in(response)
    assert key.key_hash == ApiKey.hash_key(secret) and key.prefix == secret[:10]
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/experiments").status_code == 200
    again = staff.get(f"/admin/core/apikey/{key.pk}/change/").content.decode()
    listing = staff.get("/admin/core/apikey/").content.decode()
    assert secret not in again and secret not in listing
    assert 'name="key_hash"' not in again


def test_admin_api_key_revoke__key_stops_authenticating(staff, client_for):
    response = staff.post("/admin/core/apikey/add/", {"name": "app", "role": "app"}, follow=True)
    [secret] = secrets_in(response)
    key = ApiKey.objects.get(name="app")
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"unit_id": "u-1", "attributes": {}}
    assert api.post("/api/v1/assign", body, format="json").status_code == 200
    staff.post("/admin/core/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert api.post("/api/v1/assign", body, format="json").status_code == 401


def test_admin_api_key__edit_and_delete__refused(staff):
    staff.post("/admin/core/apikey/add/", {"name": "viewer", "role": "viewer"})
    key = ApiKey.objects.get(name="viewer")
    stored = key.key_hash
    url = f"/admin/core/apikey/{key.pk}/change/"
    assert staff.post(url, {"name": "x", "role": "admin", "key_hash": "0" * 64}).status_code == 403
    assert staff.post(f"/admin/core/apikey/{key.pk}/delete/", {"post": "yes"}).status_code == 403
    key.refresh_from_db()
    assert (key.name, key.role, key.key_hash) == ("viewer", "viewer", stored)


def test_admin_exposures_events_and_audit__read_only(staff, app_client):
    started_experiment(key="price")
    body = {"unit_id": "u-1", "experiments": ["price"], "attributes": {}}
    app_client.post("/api/v1/assign", body, format="json")
    exposure = Exposure.objects.get()
    assert staff.get("/admin/assignment/exposure/add/").status_code == 403
    assert staff.get("/admin/assignment/event/add/").status_code == 403
    change = f"/admin/assignment/exposure/{exposure.pk}/change/"
    assert staff.post(change, {"unit_id": "u-2"}).status_code == 403
    delete = f"/admin/assignment/exposure/{exposure.pk}/delete/"
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    assert Exposure.objects.get().unit_id == "u-1"
    assert not Event.objects.exists()
    assert staff.get("/admin/experiments/auditlogentry/add/").status_code == 403
    entry = AuditLogEntry.objects.first()
    url = f"/admin/experiments/auditlogentry/{entry.pk}/change/"
    assert staff.post(url, {"action": "forged"}).status_code == 403
    assert staff.post(f"/admin/experiments/auditlogentry/{entry.pk}/delete/").status_code == 403


def test_admin_action__start_overlapping_experiment__started_with_warning(staff):
    started_experiment(key="price-a", kind="pricing")
    second = ready_experiment(key="price-b", kind="pricing")
    response = run_action(staff, "start", second)
    second.refresh_from_db()
    assert second.status == "running"
    warnings = [m for m in messages_of(response) if m.startswith("price-b: ")]
    assert warnings and "price-a" in warnings[0]
