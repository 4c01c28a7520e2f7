"""The count threshold, conditional mean and distinct days types and event filters through the
metrics API and metrics as code: what is stored, and a 400 naming the field for bad input."""

from __future__ import annotations

from typing import Any

import pytest

from core.actors import Actor
from experiments.models import Metric
from experiments.services.metrics_as_code import metrics_apply, metrics_export
from experiments.targeting import validate_condition
from tests.analysis.helpers import experiment_with
from tests.experiments.catalogue import catalogue_with_pending

pytestmark = pytest.mark.django_db

REPURCHASE = {
    "key": "repurchase",
    "name": "复购率",
    "type": "count_threshold",
    "event": "purchase",
    "min_events": 2,
    "among_converted": True,
    "filter": {"coupon": "NEW10"},
}
ARPPU = {
    "key": "arppu",
    "name": "ARPPU",
    "type": "conditional_mean",
    "event": "purchase",
    "value_field": "revenue",
    "filter": {"channel": {"$in": ["app", "web"]}, "revenue": {"$gt": 0}},
}
DAYS = {"key": "active_days", "name": "Active days", "type": "distinct_days", "event": "app_open"}
AOV = {
    "key": "aov_new10",
    "name": "AOV",
    "type": "ratio",
    "numerator": {"event": "purchase", "value_field": "revenue", "filter": {"coupon": "NEW10"}},
    "denominator": {"event": "purchase", "value_field": None, "filter": {"coupon": "NEW10"}},
}


@pytest.mark.parametrize("body", [REPURCHASE, ARPPU, DAYS, AOV])
def test_metric_create__new_types_and_filters__201_stored_and_served(editor, body) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 201, response.json()
    served = editor.get(f"/api/v1/metrics/{body['key']}").json()
    for field, value in body.items():
        assert served[field] == value, field
    stored = Metric.objects.get(key=body["key"])
    assert stored.filter == body.get("filter")


def test_metric_create__display_defaults__rate_number_count(editor) -> None:
    for body in (REPURCHASE, ARPPU, DAYS):
        editor.post("/api/v1/metrics", body, format="json")
    formats = dict(Metric.objects.values_list("key", "display_format"))
    assert formats == {"repurchase": "rate", "arppu": "number", "active_days": "count"}


def _bad(**fields: Any) -> dict[str, Any]:
    return {**REPURCHASE, **fields}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_bad(min_events=0), "min_events", "greater than or equal to 1"),
        (_bad(min_events=None), "min_events", "min_events, a whole number >= 1"),
        ({k: v for k, v in REPURCHASE.items() if k != "min_events"}, "min_events", ">= 1"),
        (_bad(min_events="two"), "min_events", "whole number"),
        (_bad(among_converted="yes"), "among_converted", "true or false"),
        (_bad(event=""), "event", "An event name is required"),
        ({**ARPPU, "value_field": ""}, "value_field", "value field to sum"),
        ({**DAYS, "event": ""}, "event", "An event name is required"),
        (_bad(filter={"channel": {"$regex": "^app"}}), "filter", '"$regex"'),
        (_bad(filter={"user.tier": "gold"}), "filter", "top-level properties"),
        (_bad(filter={"value": {"$gt": "10"}}), "filter", "$gt with a number"),
        (_bad(filter={"tags": ["a"]}), "filter", "string, number, boolean or null"),
        (_bad(filter={"$nor": [{"coupon": "NEW10"}]}), "filter", '"$nor"'),
        (_bad(filter=["coupon"]), "filter", "JSON object"),
        (
            {
                **AOV,
                "numerator": {
                    "event": "purchase",
                    "filter": {"tags": {"$elemMatch": {"$eq": "a"}}},
                },
            },
            "numerator.filter",
            '"$elemMatch"',
        ),
        ({**AOV, "filter": {"coupon": "NEW10"}}, "filter", "numerator and denominator"),
    ],
)
def test_metric_create__bad_input__400_names_the_field_and_stores_nothing(
    editor, body, field, words
) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()
    if field == "numerator.filter" and field not in errors:  # DRF nests its own errors
        errors = {f"numerator.{k}": v for k, v in errors["numerator"].items()}
    assert field in errors, errors
    assert any(words in message for message in errors[field]), errors[field]
    assert not Metric.objects.exists()


def test_metric_create__filter_a_targeting_rule_refuses__same_message_as_targeting(editor) -> None:
    condition = {"country": {"$in": "CN"}}
    response = editor.post("/api/v1/metrics", _bad(filter=condition), format="json")
    assert response.status_code == 400
    assert response.json()["filter"] == [str(p) for p in validate_condition(condition)]


def test_metric_update__filter_of_a_running_experiments_metric__refused(editor) -> None:
    editor.post("/api/v1/metrics", REPURCHASE, format="json")
    experiment_with([(Metric.objects.get(key="repurchase"), "primary")])
    response = editor.patch(
        "/api/v1/metrics/repurchase", {"filter": {"coupon": "SUMMER"}}, format="json"
    )
    assert response.status_code == 400 and "filter" in response.json()
    assert Metric.objects.get(key="repurchase").filter == {"coupon": "NEW10"}


def test_metric_update__type_changed_away__count_fields_cleared(editor) -> None:
    editor.post("/api/v1/metrics", REPURCHASE, format="json")
    response = editor.patch("/api/v1/metrics/repurchase", {"type": "conversion"}, format="json")
    assert response.status_code == 200, response.json()
    stored = Metric.objects.get(key="repurchase")
    assert (stored.min_events, stored.among_converted) == (None, False)


def test_metrics_as_code__new_fields__exported_and_applied_unchanged(editor) -> None:
    for body in (REPURCHASE, ARPPU, DAYS, AOV):
        editor.post("/api/v1/metrics", body, format="json")
    exported = {d["key"]: d for d in metrics_export()}
    assert exported["repurchase"]["min_events"] == 2
    assert exported["repurchase"]["among_converted"] is True
    assert exported["arppu"]["filter"] == ARPPU["filter"]
    assert exported["aov_new10"]["numerator"]["filter"] == {"coupon": "NEW10"}
    applied = metrics_apply(actor=Actor.system("test"), definitions=list(exported.values()))
    assert applied.stored and {c.action for c in applied.changes} == {"unchanged"}


def test_metrics_as_code__bad_filter__problem_names_the_field_and_nothing_stored() -> None:
    definition = {**DAYS, "filter": {"screen": {"$regex": "home"}}}
    applied = metrics_apply(actor=Actor.system("test"), definitions=[definition])
    assert not applied.stored
    assert "filter" in applied.problems["active_days"]
    assert not Metric.objects.exists()


def test_metric_create__chinese_request__filter_and_k_messages_in_chinese(
    editor, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    body = _bad(min_events=None, filter={"channel": {"$regex": "^app"}})
    response = editor.post("/api/v1/metrics", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    errors = response.json()
    assert errors["filter"][0].startswith("channel.$regex: 事件筛选不支持“$regex”")
    assert errors["min_events"] == ["次数阈值指标需要 min_events，一个 >= 1 的整数。"]
