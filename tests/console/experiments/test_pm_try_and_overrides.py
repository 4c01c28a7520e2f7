"""Try it and QA overrides on the experiment page, as HTMX swaps them: a refused input comes
back as the form with its error next to the field (status 400, which the swapped element takes
in) and no stale answer; a pasted list of unit ids is stored whole or not at all."""

from __future__ import annotations

import pytest

from experiments.models import Override
from tests.console.helpers import client_as, has_field_error
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
SWAPS_400 = "event.detail.xhr.status === 400"


def test_try_it_htmx__broken_json__form_with_error_and_no_answer_400() -> None:
    exp = started_experiment()
    response = client_as("viewer").get(
        f"/experiments/{exp.key}/try/",
        {"unit_id": "u-2", "attributes": '{"country": '},
        HTTP_HX_TARGET="try-panel",
        **HX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="try-panel"') and SWAPS_400 in html
    assert has_field_error(html, "id_attributes")
    assert 'value="u-2"' in html  # the form keeps what was typed
    assert "try-variant" not in html and "try-reason" not in html  # no answer at all
    assert "No answer: the form has an error." in html
    assert 'href="#id_attributes"' in html  # the summary links to the field


def test_try_it_htmx__good_input__answer_names_the_unit() -> None:
    exp = started_experiment()
    html = (
        client_as("viewer")
        .get(
            f"/experiments/{exp.key}/try/",
            {"unit_id": "u-1", "attributes": "{}"},
            HTTP_HX_TARGET="try-panel",
            **HX,
        )
        .content.decode()
    )
    assert '<code class="try-unit">u-1</code>' in html and "try-variant" in html


def test_overrides_htmx__space_in_unit_id__error_next_to_field_nothing_stored() -> None:
    exp = started_experiment()
    response = client_as("editor").post(
        f"/experiments/{exp.key}/overrides/add/",
        {"unit_id": "qa-anna qa-bob", "variant": "treatment"},
        HTTP_HX_TARGET="overrides-section",
        **HX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="overrides-section"') and SWAPS_400 in html
    assert has_field_error(html, "id_unit_id")
    assert "no spaces, tabs or line breaks" in html and "Nothing was saved" in html
    assert not Override.objects.exists()


def test_overrides__pasted_list_with_one_bad_line__none_stored_line_named() -> None:
    exp = started_experiment()
    response = client_as("editor").post(
        f"/experiments/{exp.key}/overrides/add/",
        {"unit_id": "qa-anna\nqa-bob\nqa-carl qa-dora\n", "variant": "treatment"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 3: “qa-carl qa-dora” contains whitespace" in html
    assert "qa-anna\nqa-bob\nqa-carl qa-dora" in html  # the list is kept to fix
    assert not Override.objects.exists()


def test_overrides__pasted_list__all_stored_one_message() -> None:
    exp = started_experiment()
    editor = client_as("editor")
    response = editor.post(
        f"/experiments/{exp.key}/overrides/add/",
        {"unit_id": "qa-anna\r\nqa-bob\r\n\r\nqa-carl", "variant": "treatment", "note": "QA"},
        follow=True,
    )
    html = response.content.decode()
    assert "3 units now always get treatment." in html
    stored = set(Override.objects.filter(experiment=exp).values_list("unit_id", flat=True))
    assert stored == {"qa-anna", "qa-bob", "qa-carl"}


def test_overrides_form__textarea_labelled_one_per_line() -> None:
    exp = started_experiment()
    html = client_as("editor").get(f"/experiments/{exp.key}/overrides/").content.decode()
    assert '<label for="id_unit_id">Unit ids, one per line</label>' in html
    assert '<textarea name="unit_id"' in html


def test_overrides_htmx__list_stored__variant_stays_chosen_for_the_next_list() -> None:
    exp = started_experiment()
    html = (
        client_as("editor")
        .post(
            f"/experiments/{exp.key}/overrides/add/",
            {"unit_id": "qa-anna", "variant": "treatment"},
            HTTP_HX_TARGET="overrides-section",
            **HX,
        )
        .content.decode()
    )
    assert '<option value="treatment" selected>' in html
