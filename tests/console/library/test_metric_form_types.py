"""The metric form for count threshold, conditional mean and distinct days, and event filters:
each type shows its own fields with a label on every control, saves through the service, and
shows problems next to the field, in English and Chinese."""

from __future__ import annotations

import re

import pytest

from experiments.models import Metric
from tests.console.library.test_library import client_as, metric_post
from tests.experiments.catalogue import catalogue_with_pending

pytestmark = pytest.mark.django_db


def _retype(kind: str, **extra: str) -> str:
    data = metric_post(type=kind, action="retype", **extra)
    response = client_as("editor").post("/metrics/new/", data, HTTP_HX_REQUEST="true")
    return response.content.decode()


def _controls(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([a-z_]+)"', html))


def _labelled(html: str) -> None:
    """Every visible control has a label pointing at its id."""
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    labels = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and set(ids) <= labels, set(ids) - labels


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        (
            "count_threshold",
            {"event", "filter", "min_events", "among_converted"},
            {"value_field", "numerator_event", "retention_day"},
        ),
        (
            "conditional_mean",
            {"event", "filter", "value_field"},
            {"min_events", "among_converted", "numerator_event"},
        ),
        (
            "distinct_days",
            {"event", "filter"},
            {"value_field", "min_events", "among_converted", "numerator_event"},
        ),
        (
            "ratio",
            {"numerator_event", "numerator_filter", "denominator_filter"},
            {"event", "filter", "min_events"},
        ),
    ],
)
def test_metric_form__type_fields__only_that_types_controls_each_labelled(
    kind, shown, hidden
) -> None:
    html = _retype(kind)
    controls = _controls(html)
    assert shown <= controls, shown - controls
    assert not hidden & controls, hidden & controls
    _labelled(html)


def test_metric_create__repurchase_with_filter__saved() -> None:
    data = metric_post(
        key="repurchase",
        type="count_threshold",
        event="purchase",
        min_events="2",
        among_converted="on",
        filter='{"coupon": "NEW10"}',
    )
    response = client_as("editor").post("/metrics/new/", data)
    assert response.status_code == 302, response.content.decode()
    metric = Metric.objects.get(key="repurchase")
    assert (metric.min_events, metric.among_converted) == (2, True)
    assert metric.filter == {"coupon": "NEW10"} and metric.numerator is None
    assert metric.display_format == "rate"
    # The edit form shows it back.
    html = client_as("admin").get("/metrics/repurchase/edit/").content.decode()
    assert 'name="among_converted" checked' in html
    assert "{&quot;coupon&quot;: &quot;NEW10&quot;}" in html


def test_metric_create__ratio_part_filter__saved_in_the_part() -> None:
    data = metric_post(numerator_filter='{"channel": {"$in": ["app", "web"]}}')
    assert client_as("editor").post("/metrics/new/", data).status_code == 302
    metric = Metric.objects.get(key="aov")
    assert metric.numerator["filter"] == {"channel": {"$in": ["app", "web"]}}
    assert "filter" not in metric.denominator


@pytest.mark.parametrize(
    ("post", "field_id", "words"),
    [
        ({"filter": "{coupon: NEW10}"}, "m-filter", "Not valid JSON"),
        ({"filter": '{"coupon": {"$regex": "^N"}}'}, "m-filter", "do not support"),
        ({"min_events": "0"}, "m-min-events", "greater than or equal to 1"),
        ({"min_events": ""}, "m-min-events", "min_events"),
    ],
)
def test_metric_create__bad_count_threshold__error_next_to_the_field(post, field_id, words) -> None:
    data = metric_post(key="r", type="count_threshold", event="purchase", min_events="2")
    data.update(post)
    html = client_as("editor").post("/metrics/new/", data).content.decode()
    field = html.split(f'id="{field_id}"')[1].split("</div>")[0]
    assert "errorlist" in field and words in field, field
    assert not Metric.objects.exists()


def test_metric_create__bad_part_filter__error_next_to_that_part() -> None:
    data = metric_post(denominator_filter='{"items": {"$gt": "1"}}')
    html = client_as("editor").post("/metrics/new/", data).content.decode()
    field = html.split('id="m-denominator-filter"')[1].split("</div>")[0]
    assert "items.$gt" in field and "with a number" in field
    assert not Metric.objects.exists()


def test_metric_form__chinese__new_types_and_fields_in_chinese(settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    data = metric_post(type="count_threshold", action="retype")
    html = (
        client_as("editor")
        .post("/metrics/new/", data, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    for words in (
        "次数阈值",
        "条件均值",
        "活跃天数",
        "事件筛选（可选）",
        "至少 k 次事件",
        "复购率",
    ):
        assert words in html, words
    assert "At least k events" not in html and "Event filter" not in html
