"""The experiment form's history segments and segment correction: a labelled control per
kind, the look-back, the spend event and property, the correction; saved through the service,
its messages next to the fields, stored values shown again, both languages."""

from __future__ import annotations

import pytest
from django.conf import settings

from experiments.models import Experiment
from tests.console.experiment_form.test_experiment_form import NEW, client_as, post_data
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db


def _field(html: str, field_id: str) -> str:
    return html.split(f'id="{field_id}"')[1].split("</div>")[0]


def test_form__history_segments_chosen__saved_and_shown_again() -> None:
    MetricFactory(key="paid-conversion")
    client = client_as("editor")
    response = client.post(
        NEW,
        post_data(
            **{
                "metric-role-paid-conversion": "primary",
                "history_rfm": "on",
                "history_spend_tier": "on",
                "history_days": "60",
                "history_value_event": "purchase",
                "history_value_field": "revenue",
                "segment_correction": "bh",
            }
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    experiment = Experiment.objects.get(key="pro-tier-price")
    assert experiment.history_segments == {
        "kinds": ["rfm", "spend_tier"],
        "days": 60,
        "value_event": "purchase",
        "value_field": "revenue",
    }
    assert experiment.segment_correction == "bh"
    html = client.get(f"/experiments/{experiment.key}/edit/").content.decode()
    assert 'name="history_rfm" checked' in html and 'name="history_new_vs_returning" >' in html
    assert 'value="60"' in _field(html, "id_history_days")
    assert '<option value="bh" selected>' in html.split('id="id_segment_correction"')[1]


@pytest.mark.parametrize(
    ("changes", "field_id", "words"),
    [
        ({"history_rfm": "on", "history_days": "0"}, "id_history_days", "1 to 365"),
        ({"history_rfm": "on", "history_days": "many"}, "id_history_days", "1 to 365"),
        ({"history_spend_tier": "on"}, "id_history_value_event", "spend"),
    ],
)
def test_form__bad_history_settings__message_next_to_the_field_nothing_saved(
    changes, field_id, words
) -> None:
    html = client_as("editor").post(NEW, post_data(**changes)).content.decode()
    assert words in _field(html, field_id)
    assert not Experiment.objects.exists()


def test_form__chinese__history_controls_labelled() -> None:
    client = client_as("editor")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(NEW).content.decode()
    for words in ("新用户或老用户", "RFM 分层", "消费分层", "回看天数", "分群 p 值的校正"):
        assert words in html, words


def test_overview__history_segments__plan_lists_them_in_both_languages() -> None:
    from tests.factories import ExperimentFactory

    exp = ExperimentFactory(
        key="hist-overview",
        history_segments={"kinds": ["new_vs_returning", "rfm"], "days": 45, "value_event": "buy"},
        segment_correction="bh",
    )
    client = client_as("viewer")
    html = client.get(f"/experiments/{exp.key}/").content.decode()
    assert "<dt>Segments from each unit's history before exposure</dt>" in html
    assert "New or returning, RFM tier · 45 days" in html
    assert "Correction of segment p-values</dt><dd>Benjamini-Hochberg" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(f"/experiments/{exp.key}/").content.decode()
    assert "新用户或老用户, RFM 分层 · 45" in html and "分群 p 值的校正" in html


def test_validate_plan_step__htmx__history_errors_swapped_next_to_their_fields() -> None:
    data = post_data(action="validate", step="plan", history_rfm="on", history_days="500")
    response = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    days = html.split('id="err-history_days" hx-swap-oob="true"')[1].split("</ul>")[0]
    assert "1 to 365" in days
    event = html.split('id="err-history_value_event" hx-swap-oob="true"')[1].split("</ul>")[0]
    assert "spend" in event
    assert "<section" not in html
