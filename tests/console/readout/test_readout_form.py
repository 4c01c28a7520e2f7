"""The guided form's expected effect: shown on the design form, saved, and refused with the
message next to the field when it is too long."""

from __future__ import annotations

import pytest

from experiments.models import Experiment
from tests.console.experiment_form.test_experiment_form import NEW, client_as, post_data
from tests.factories import MetricFactory, ready_experiment

pytestmark = pytest.mark.django_db


def test_form__new__expected_effect_field_on_the_basics_step() -> None:
    html = client_as("editor").get(NEW).content.decode()
    basics = html.split('id="step-basics"')[1].split("</section>")[0]
    assert 'name="expected_effect"' in basics and 'for="id_expected_effect"' in basics


def test_form__expected_effect_posted__saved_and_shown_when_editing() -> None:
    MetricFactory(key="paid-conversion")
    editor = client_as("editor")
    data = post_data(
        expected_effect="+5% paid conversion", **{"metric-role-paid-conversion": "primary"}
    )
    assert editor.post(NEW, data).status_code == 302
    experiment = Experiment.objects.get(key="pro-tier-price")
    assert experiment.expected_effect == "+5% paid conversion"
    edit = editor.get(f"/experiments/{experiment.key}/edit/").content.decode()
    assert 'value="+5% paid conversion"' in edit


def test_form__expected_effect_too_long__error_next_to_it_and_unchanged() -> None:
    exp = ready_experiment(expected_effect="+1%")
    editor = client_as("editor")
    html = editor.get(f"/experiments/{exp.key}/edit/").content.decode()
    assert 'value="+1%"' in html
    response = editor.post(NEW, post_data(expected_effect="x" * 201))
    assert response.status_code in (200, 400)
    errors = response.content.decode().split('id="err-expected_effect"')[1].split("</ul>")[0]
    assert "<li>" in errors
    assert not Experiment.objects.filter(key="pro-tier-price").exists()
