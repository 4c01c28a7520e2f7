"""The metric form for the curve types (retention curve, value to date): each shows its own
fields with a label on every control, saves through the service, and shows problems next to
the field, in English and Chinese."""

from __future__ import annotations

import pytest

from experiments.models import Metric
from tests.console.library.test_library import client_as, metric_post
from tests.console.library.test_metric_form_types import _controls, _labelled, _retype
from tests.experiments.catalogue import catalogue_with_pending

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        ("retention_curve", {"activity", "horizon_days"}, {"event", "filter", "value_field"}),
        (
            "value_curve",
            {"event", "filter", "value_field", "horizon_days"},
            {"activity", "retention_day", "min_events"},
        ),
        ("retention", {"event", "retention_day"}, {"activity", "horizon_days"}),
    ],
)
def test_metric_form__curve_fields__only_that_types_controls_each_labelled(
    kind, shown, hidden
) -> None:
    html = _retype(kind)
    controls = _controls(html)
    assert shown <= controls, shown - controls
    assert not hidden & controls, hidden & controls
    _labelled(html)


def test_metric_create__retention_curve__saved_and_shown_back() -> None:
    activity = '[{"event": "app_open"}, {"event": "purchase", "filter": {"coupon": "NEW10"}}]'
    data = metric_post(key="d_ret", type="retention_curve", activity=activity, horizon_days="14")
    response = client_as("editor").post("/metrics/new/", data)
    assert response.status_code == 302, response.content.decode()
    metric = Metric.objects.get(key="d_ret")
    assert metric.activity == [
        {"event": "app_open"},
        {"event": "purchase", "filter": {"coupon": "NEW10"}},
    ]
    assert (metric.horizon_days, metric.event, metric.display_format) == (14, "", "rate")
    html = client_as("admin").get("/metrics/d_ret/edit/").content.decode()
    assert 'name="horizon_days" value="14"' in html and "app_open" in html


def test_metric_create__value_curve_default_horizon__saved() -> None:
    data = metric_post(key="ltv", type="value_curve", event="purchase", value_field="revenue")
    assert client_as("editor").post("/metrics/new/", data).status_code == 302
    assert Metric.objects.get(key="ltv").horizon_days == 30


@pytest.mark.parametrize(
    ("post", "field_id", "words"),
    [
        ({"horizon_days": "120"}, "m-horizon", "from 1 to 90"),
        ({"activity": "[app_open]"}, "m-activity", "Not valid JSON"),
        ({"activity": "[]"}, "m-activity", "1 to 6 events"),
    ],
)
def test_metric_create__bad_retention_curve__error_next_to_the_field(post, field_id, words) -> None:
    data = metric_post(key="r", type="retention_curve", activity='[{"event": "app_open"}]')
    data.update(post)
    html = client_as("editor").post("/metrics/new/", data).content.decode()
    field = html.split(f'id="{field_id}"')[1].split("</div>")[0]
    assert "errorlist" in field and words in field, field
    assert not Metric.objects.exists()


def test_metric_form__chinese__curve_types_and_fields_in_chinese(settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    data = metric_post(type="retention_curve", action="retype")
    html = (
        client_as("editor")
        .post("/metrics/new/", data, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    for words in ("留存曲线", "累计价值", "活跃事件", "观察期"):
        assert words in html, words
    assert "Activity events" not in html and "Horizon" not in html
