"""QA override unit ids have no whitespace, by every door (service, API, admin), and a pasted
list (one id per line) is stored whole or not at all, with the offending lines named."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry, Override
from experiments.services.overrides import (
    MAX_OVERRIDE_LINES,
    override_lines_parse,
    override_set,
    override_set_lines,
)
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("qa-lead")


@pytest.mark.parametrize("unit_id", ["qa-anna qa-bob", "qa-anna\tqa-bob", "qa-anna\nqa-bob", "qa "])
def test_override_set__whitespace_in_unit_id__refused_on_unit_id_nothing_stored(unit_id) -> None:
    exp = started_experiment()
    with pytest.raises(ValidationFailed) as refused:
        override_set(actor=ACTOR, experiment=exp, unit_id=unit_id, variant_key="treatment")
    [message] = refused.value.errors["unit_id"]
    assert "no spaces, tabs or line breaks" in message
    assert not Override.objects.exists()


def test_override_lines_parse__list__ids_in_order_blank_lines_and_repeats_skipped() -> None:
    text = "qa-anna\r\n\n  qa-bob  \nqa-anna\n"
    assert override_lines_parse(text) == ["qa-anna", "qa-bob"]


def test_override_set_lines__one_bad_line__nothing_stored_and_line_named() -> None:
    exp = started_experiment()
    text = "qa-anna\nqa-bob\nqa-carl qa-dora\nqa-erik"
    with pytest.raises(ValidationFailed) as refused:
        override_set_lines(actor=ACTOR, experiment=exp, text=text, variant_key="treatment")
    [message] = refused.value.errors["unit_id"]
    assert message.startswith("Line 3: ") and "qa-carl qa-dora" in message
    assert not Override.objects.exists()
    assert not AuditLogEntry.objects.filter(action="override_set").exists()


def test_override_set_lines__good_list__all_stored_each_audited() -> None:
    exp = started_experiment()
    saved = override_set_lines(
        actor=ACTOR, experiment=exp, text="qa-anna\nqa-bob\n", variant_key="treatment", note="QA"
    )
    assert [(o.unit_id, new) for o, new in saved] == [("qa-anna", True), ("qa-bob", True)]
    assert set(Override.objects.values_list("unit_id", flat=True)) == {"qa-anna", "qa-bob"}
    assert AuditLogEntry.objects.filter(action="override_set").count() == 2


def test_override_set_lines__unknown_variant__nothing_stored() -> None:
    exp = started_experiment()
    with pytest.raises(ValidationFailed) as refused:
        override_set_lines(actor=ACTOR, experiment=exp, text="qa-anna", variant_key="nope")
    assert "variant" in refused.value.errors
    assert not Override.objects.exists()


def test_override_set_lines__too_many_or_none__refused() -> None:
    exp = started_experiment()
    many = "\n".join(f"qa-{i}" for i in range(MAX_OVERRIDE_LINES + 1))
    for text in (many, "\n  \n"):
        with pytest.raises(ValidationFailed):
            override_set_lines(actor=ACTOR, experiment=exp, text=text, variant_key="treatment")
    assert not Override.objects.exists()


def test_api_override__space_in_unit_id__400_with_unit_id_reason(editor) -> None:
    exp = started_experiment()
    response = editor.post(
        f"/api/v1/experiments/{exp.key}/overrides",
        {"unit_id": "qa-anna qa-bob", "variant": "treatment"},
        format="json",
    )
    assert response.status_code == 400
    [reason] = response.json()["unit_id"]
    assert "no spaces, tabs or line breaks" in reason
    assert not Override.objects.exists()


def test_admin_override__space_in_unit_id__refused_on_the_form(client: Client, admin_user: Any):
    exp = started_experiment()
    client.force_login(admin_user)
    treatment = exp.variants.get(key="treatment")
    response = client.post(
        "/admin/experiments/override/add/",
        {"experiment": exp.pk, "unit_id": "qa-anna qa-bob", "variant": treatment.pk, "note": ""},
    )
    assert response.status_code == 200
    assert "no spaces, tabs or line breaks" in response.content.decode()
    assert not Override.objects.exists()
