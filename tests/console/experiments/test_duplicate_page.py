"""Duplicating an experiment from its page: the button, the form with suggestions, the copy."""

from __future__ import annotations

import pytest

from experiments.models import AuditLogEntry, Experiment
from tests.console.helpers import client_as, has_field_error
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_page__editor__duplicate_button_links_to_the_form() -> None:
    exp = started_experiment(key="pricing")
    html = client_as("editor").get("/experiments/pricing/").content.decode()
    assert 'href="/experiments/pricing/duplicate/"' in html
    assert 'data-action="duplicate"' in html
    assert exp.status == "running"


def test_page__viewer__no_duplicate_button_and_a_forced_url_is_403() -> None:
    ready_experiment(key="pricing")
    viewer = client_as("viewer")
    assert 'data-action="duplicate"' not in viewer.get("/experiments/pricing/").content.decode()
    assert viewer.get("/experiments/pricing/duplicate/").status_code == 403
    assert viewer.post("/experiments/pricing/duplicate/", {"key": "x"}).status_code == 403
    assert Experiment.objects.count() == 1


def test_form__get__suggests_the_next_free_key_and_a_name() -> None:
    ready_experiment(key="pricing", name="Pro price")
    ready_experiment(key="pricing-copy")
    html = client_as("editor").get("/experiments/pricing/duplicate/").content.decode()
    assert 'value="pricing-copy-2"' in html
    assert 'value="Pro price (copy)"' in html
    assert "What the copy takes" in html


def test_form__htmx__only_the_panel() -> None:
    ready_experiment(key="pricing")
    html = client_as("editor").get("/experiments/pricing/duplicate/", **HX).content.decode()
    assert html.lstrip().startswith('<section id="duplicate-panel"')


def test_form__post__copy_opens_as_a_draft_with_a_notice() -> None:
    started_experiment(key="pricing", name="Pro price")
    response = client_as("editor").post(
        "/experiments/pricing/duplicate/", {"key": "pricing-q3", "name": "Pro price Q3"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/experiments/pricing-q3/"
    copy = Experiment.objects.get(key="pricing-q3")
    assert (copy.name, copy.status) == ("Pro price Q3", "draft")
    page = client_as("viewer", "reader").get(response["Location"]).content.decode()
    assert "Duplicated" in client_as("admin").get("/experiments/pricing-q3/audit/").content.decode()
    assert "Pro price Q3" in page


def test_form__post_htmx__client_redirect_to_the_copy() -> None:
    ready_experiment(key="pricing")
    response = client_as("editor").post("/experiments/pricing/duplicate/", {}, **HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/experiments/pricing-copy/"


def test_form__taken_key__error_next_to_the_key_and_nothing_stored() -> None:
    ready_experiment(key="pricing")
    ready_experiment(key="other")
    response = client_as("editor").post(
        "/experiments/pricing/duplicate/", {"key": "other", "name": "Copy"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert has_field_error(html, "id_key")
    assert "An experiment with key &quot;other&quot; exists" in html
    assert Experiment.objects.count() == 2
    assert not AuditLogEntry.objects.filter(action="duplicate").exists()


def test_form__chinese__labels_and_error_in_chinese() -> None:
    ready_experiment(key="pricing")
    editor = client_as("editor")
    html = editor.get(
        "/experiments/pricing/duplicate/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "副本" in html
    assert "What the copy takes" not in html
    refused = editor.post(
        "/experiments/pricing/duplicate/", {"key": "pricing"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "标识为“pricing”的实验已存在。请换一个标识。" in refused


def test_form__htmx_taken_key__panel_with_the_error_swapped_in() -> None:
    ready_experiment(key="pricing")
    response = client_as("editor").post("/experiments/pricing/duplicate/", {"key": "pricing"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert html.lstrip().startswith('<section id="duplicate-panel"')
    assert has_field_error(html, "id_key")
    assert Experiment.objects.count() == 1
