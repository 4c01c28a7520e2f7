"""The new-experiment page's "Start from a template": links, the form filled in, notes."""

from __future__ import annotations

import re

import pytest

from experiments.demo import METRICS
from experiments.models import Metric
from tests.console.helpers import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def library() -> None:
    for metric in METRICS:
        Metric.objects.create(**metric)


def _value(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}"[^>]*value="([^"]*)"', html)
    assert found, field_id
    return found[1]


def test_new_page__template_choice__plain_links_for_each_template(library) -> None:
    html = client_as("editor").get("/experiments/new/").content.decode()
    assert "Start from a template" in html
    for key in ("pricing", "onboarding", "promotion"):
        assert f'href="/experiments/new/?template={key}"' in html
    assert "aria-current" not in html.split('id="template-choice"')[1].split("</section>")[0]


def test_new_page__pricing_template__form_filled_in(library) -> None:
    html = client_as("editor").get("/experiments/new/?template=pricing").content.decode()
    assert _value(html, "id_name") == "Pro price: 29 vs 39 per month"
    assert _value(html, "id_key") == "pricing-test"
    assert "&quot;monthly_price&quot;: 39" in html
    assert 'value="current-price"' in html and 'value="higher-price"' in html
    assert 'aria-current="true"' in html
    assert "The form is filled in from the Pricing template" in html
    assert 'id="template-missing"' not in html


def test_new_page__template_metric_missing__left_out_with_a_note(library) -> None:
    Metric.objects.filter(key="coupon_cost").delete()
    html = client_as("editor").get("/experiments/new/?template=promotion").content.decode()
    note = html.split('id="template-missing"')[1].split("</div>")[0]
    assert "<code>coupon_cost</code>" in note
    assert 'href="/metrics/"' in note


def test_new_page__unknown_template__blank_form_and_a_note(library) -> None:
    html = client_as("editor").get("/experiments/new/?template=nope").content.decode()
    assert "There is no template by that name" in html
    assert _value(html, "id_name") == ""


def test_edit_page__no_template_choice(library) -> None:
    from tests.factories import ready_experiment

    ready_experiment(key="pricing")
    html = client_as("editor").get("/experiments/pricing/edit/?template=pricing").content.decode()
    assert 'id="template-choice"' not in html


def test_new_page__viewer__403(library) -> None:
    assert client_as("viewer").get("/experiments/new/?template=pricing").status_code == 403


def test_new_page__chinese__template_texts_in_chinese(library) -> None:
    html = (
        client_as("editor")
        .get("/experiments/new/?template=onboarding", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "Start from a template" not in html
    assert "从模板开始" in html
