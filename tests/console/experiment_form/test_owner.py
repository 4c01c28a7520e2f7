"""The owner in the guided form: a choice of people, the creator by default, checked by the
experiment services, shown in the list filter and on the experiment page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry, Experiment
from experiments.services.experiments import experiment_create, experiment_update
from tests.console.experiment_form.test_experiment_form import post_data
from tests.console.helpers import client_as, has_field_error, person
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
NEW = "/experiments/new/"


def _selected_owner(html: str) -> str | None:
    select = html.split('id="id_owner"')[1].split("</select>")[0]
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found[1] if found else None


def test_new_form__owner_choice_of_people__creator_selected() -> None:
    person("ann", "editor")
    html = client_as("editor", "pm-bo").get(NEW).content.decode()
    select = html.split('id="id_owner"')[1].split("</select>")[0]
    assert '<option value="ann"' in select and '<option value="pm-bo"' in select
    assert _selected_owner(html) == "pm-bo"


def test_create__another_owner_chosen__experiment_belongs_to_them() -> None:
    person("ann", "editor")
    response = client_as("editor", "pm-bo").post(NEW, post_data(owner="ann"))
    assert response.status_code == 302
    assert Experiment.objects.get(key="pro-tier-price").owner.username == "ann"


def test_create__unknown_owner__error_next_to_owner_and_nothing_stored() -> None:
    response = client_as("editor").post(NEW, post_data(owner="nobody"))
    html = response.content.decode()
    assert has_field_error(html, "id_owner")
    block = html.split('for="id_owner"')[1].split('class="field')[0]
    assert "No active user named &quot;nobody&quot;." in block
    assert not Experiment.objects.exists()


def test_create__deactivated_owner__refused_by_the_service() -> None:
    gone = person("gone", "editor")
    gone.is_active = False
    gone.save()
    with pytest.raises(ValidationFailed) as failed:
        experiment_create(actor=Actor.system(), data={"key": "k", "name": "K", "owner": "gone"})
    assert failed.value.errors == {"owner": ['No active user named "gone".']}


def test_htmx_validate_basics__unknown_owner__error_swapped_in() -> None:
    data = post_data(owner="nobody", action="validate", step="basics")
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    oob = html.split('id="err-owner"')[1].split("</ul>")[0]
    assert "No active user named &quot;nobody&quot;." in oob


def test_edit__owner_changed__saved_audited_shown_on_page_and_in_list_filter() -> None:
    ann, bo = person("ann", "editor"), person("bo", "editor")
    exp = ready_experiment(key="checkout-copy", owner=ann)
    editor = client_as("editor")
    page = editor.get(f"/experiments/{exp.key}/edit/").content.decode()
    assert _selected_owner(page) == "ann"
    data = post_data(key=exp.key, name=exp.name, owner="bo")
    data.update({"variants-1-key": "treatment", "metric-role-conversion": "primary"})
    response = editor.post(f"/experiments/{exp.key}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    exp.refresh_from_db()
    assert exp.owner == bo
    entry = AuditLogEntry.objects.filter(experiment=exp, action="update").latest("pk")
    assert (entry.before["owner"], entry.after["owner"]) == ("ann", "bo")
    detail = editor.get(f"/experiments/{exp.key}/").content.decode()
    assert "Owner: bo" in detail
    listing = editor.get("/experiments/", {"owner": bo.pk}).content.decode()
    assert "checkout-copy" in listing
    assert f'<option value="{bo.pk}" selected>bo</option>' in listing
    assert "checkout-copy" not in editor.get("/experiments/", {"owner": ann.pk}).content.decode()


def test_edit__running_experiment__owner_can_change() -> None:
    ann, bo = person("ann", "editor"), person("bo", "editor")
    exp = started_experiment(key="live", owner=ann)
    experiment_update(actor=Actor.system(), experiment=exp, data={"owner": "bo"})
    exp.refresh_from_db()
    assert exp.owner == bo


def test_edit__ownerless_experiment__no_owner_forced_on_it() -> None:
    exp = ready_experiment(key="orphan", owner=None)
    html = client_as("editor").get(f"/experiments/{exp.key}/edit/").content.decode()
    assert _selected_owner(html) == ""
    assert get_user_model().objects.exists()
