"""The experiments list: search and filters (plain GET and HTMX), rows with the latest results
of running experiments, a constant number of queries; and the pure helpers behind it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from analysis.engine.contract import results_from_stored
from console.experiments.audit_diff import Change, audit_changes
from console.experiments.list_summary import snapshot_summary
from console.experiments.targeting_words import targeting_in_words
from experiments.models import Experiment, ExperimentMetric, Variant
from tests.console.helpers import (
    client_as,
    has_field_error,
    multiple_exposures,
    person,
    results_json,
    store_snapshot,
)
from tests.factories import ExperimentFactory, LayerFactory, MetricFactory, started_experiment

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalogue(db: None) -> dict:
    ann = person("ann", "editor")
    bob = person("bob", "editor")
    layer = LayerFactory(key="checkout", name="Checkout")
    return {
        "price": ExperimentFactory(key="price-29", name="Pro at 29", kind="pricing", owner=ann),
        "onboarding": ExperimentFactory(
            key="checklist", name="Checklist", kind="onboarding", owner=bob, layer=layer
        ),
        "coupon": ExperimentFactory(
            key="coupon-new10",
            name="Coupon",
            kind="promotion",
            owner=ann,
            hypothesis="A NEW10 coupon lifts first purchases",
            status="stopped",
        ),
    }


def _keys(html: str, catalogue: dict) -> set[str]:
    return {key for key, exp in catalogue.items() if f"/experiments/{exp.key}/" in html}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"price", "onboarding", "coupon"}),
        ({"status": "stopped"}, {"coupon"}),
        ({"kind": "onboarding"}, {"onboarding"}),
        ({"layer": "checkout"}, {"onboarding"}),
        ({"q": "new10"}, {"coupon"}),
        ({"q": "first purchases"}, {"coupon"}),
        ({"q": "PRO AT"}, {"price"}),
    ],
)
def test_list__filters__only_matching_rows(catalogue, query, expected) -> None:
    html = client_as("viewer").get("/experiments/", query).content.decode()
    assert _keys(html, catalogue) == expected


def test_list__owner_filter__that_owners_experiments(catalogue) -> None:
    ann = get_user_model().objects.get(username="ann")
    html = client_as("viewer").get("/experiments/", {"owner": ann.pk}).content.decode()
    assert _keys(html, catalogue) == {"price", "coupon"}


def test_list__htmx_filter__table_partial_with_active_filter_visible(catalogue) -> None:
    response = client_as("viewer").get("/experiments/", {"kind": "pricing"}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="experiment-table">')
    assert "<form" not in html
    assert "Filtered by" in html and "Kind: Pricing" in html
    assert _keys(html, catalogue) == {"price"}


def test_list__plain_get_form__works_without_javascript(catalogue) -> None:
    html = client_as("viewer").get("/experiments/", {"status": "stopped"}).content.decode()
    assert '<form class="filters" method="get"' in html
    assert '<option value="stopped" selected>' in html
    assert "Filtered by" in html


def test_list__unknown_status__400_with_message_next_to_field(catalogue) -> None:
    response = client_as("viewer").get("/experiments/", {"status": "exploded"})
    assert response.status_code == 400
    html = response.content.decode()
    assert has_field_error(html, "id_status")
    assert "Select a valid choice" in html


def test_list__rows__link_status_badge_owner_and_dates(catalogue) -> None:
    html = client_as("viewer").get("/experiments/").content.decode()
    assert '<a href="/experiments/price-29/"><strong>Pro at 29</strong></a>' in html
    assert '<span class="badge badge-stopped">Stopped</span>' in html
    assert "ann" in html and "Created" in html


def test_list__running_row__units_days_lift_significance_and_health_badge(db: None) -> None:
    exp = started_experiment(key="pricing-pro")
    store_snapshot(exp, results_json(effect=0.02, outcome="not_significant"), minutes_ago=60)
    store_snapshot(
        exp,
        results_json(health=[multiple_exposures(severity="error")]),
    )
    html = client_as("viewer").get("/experiments/").content.decode()
    assert "30,512" in html or "30512" in html
    assert "0 days running" in html
    assert "+10.90%" in html and "↑ significant" in html  # the newest snapshot only
    assert "+2.0%" not in html
    assert "⚠ Health check failed" in html


def test_list__running_row_without_snapshot__no_results_yet(db: None) -> None:
    started_experiment()
    html = client_as("viewer").get("/experiments/").content.decode()
    assert "No results yet" in html


def test_list__chinese__labels_translated(catalogue) -> None:
    html = client_as("viewer").get("/experiments/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "实验" in html and "状态" in html


def test_list__new_experiment_button__editors_only(catalogue) -> None:
    assert "New experiment" in client_as("editor").get("/experiments/").content.decode()
    assert "New experiment" not in client_as("viewer").get("/experiments/").content.decode()


def test_list__1000_experiments__query_count_constant(db, django_assert_max_num_queries) -> None:
    metric = MetricFactory(key="conversion")
    owner = person("owner", "editor")
    experiments = Experiment.objects.bulk_create(
        Experiment(key=f"exp-{i}", name=f"Experiment {i}", owner=owner, status="running")
        for i in range(1000)
    )
    Variant.objects.bulk_create(
        Variant(experiment=e, key=k, name=k, is_control=(k == "control"))
        for e in experiments
        for k in ("control", "treatment")
    )
    ExperimentMetric.objects.bulk_create(
        ExperimentMetric(experiment=e, metric=metric, role="primary") for e in experiments
    )
    for e in experiments[-60:]:
        store_snapshot(e, results_json())
    client = client_as("viewer")
    with django_assert_max_num_queries(14):
        response = client.get("/experiments/")
    assert response.status_code == 200
    with django_assert_max_num_queries(14):
        client.get("/experiments/", {"page": 20, "status": "running"})


# Pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({}, "everyone"),
        (None, "everyone"),
        (
            {"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}},
            "country is CN or SG, and app version ≥ 3.2.0",
        ),
        ({"is_new_user": True}, "is new user is true"),
        ({"platform": {"$nin": ["ios", "web"]}}, "platform is none of ios, web"),
        ({"age": {"$gte": 18, "$lt": 65}}, "age ≥ 18 and age < 65"),
        ({"email": {"$exists": False}}, "email is not set"),
        (
            {"$or": [{"country": "CN"}, {"plan": {"$ne": "free"}}]},
            "either (country is CN) or (plan is not free)",
        ),
        ({"$not": {"country": "US"}}, "not (country is US)"),
        ({"name": {"$regex": "^a"}}, "name matches /^a/"),
    ],
)
def test_targeting_in_words__conditions__plain_words(condition, words) -> None:
    assert targeting_in_words(condition) == words


def test_targeting_in_words__chinese__translated_words(settings) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        words = targeting_in_words({"country": {"$in": ["CN", "SG"]}})
    assert "CN" in words and "SG" in words  # values are never translated


def test_snapshot_summary__typed_results__units_lifts_and_failing_checks() -> None:
    results = results_from_stored(
        results_json(
            effect=-0.031,
            outcome="worse",
            health=[multiple_exposures(12), multiple_exposures(3, severity="info")],
        )
    )
    summary = snapshot_summary(results)
    assert summary.exposed_units == 30512
    assert [(lift.variant, lift.effect, lift.outcome) for lift in summary.lifts] == [
        ("treatment", -0.031, "worse")
    ]
    assert len(summary.health_problems) == 1
    assert summary.health_problems[0].startswith("12 units (0.04% of exposed units) saw more")


def test_list__unreadable_results__row_without_results_not_an_error(db: None) -> None:
    exp = started_experiment(key="pricing-pro")
    store_snapshot(exp, {"units": {"by_variant": {"a": 3, "b": 4}}})
    response = client_as("viewer").get("/experiments/")
    assert response.status_code == 200
    assert "No results yet" in response.content.decode()


def test_audit_changes__keyed_lists_and_nesting__one_row_per_changed_field() -> None:
    before = {
        "coverage": 1.0,
        "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}],
        "targeting": {"country": "CN"},
    }
    after = {
        "coverage": 0.5,
        "variants": [
            {"key": "a", "weight": 1},
            {"key": "b", "weight": 3},
            {"key": "c", "weight": 1},
        ],
        "targeting": {"country": "CN"},
        "warnings": ["overlaps x"],
    }
    assert audit_changes(before, after) == [
        Change("coverage", "1.0", "0.5"),
        Change("variants[b].weight", "1", "3"),
        Change("variants[c].weight", None, "1"),  # an added variant, field by field
        Change("warnings", None, '["overlaps x"]'),
    ]


def test_audit_changes__created_or_deleted__every_field_added_or_removed() -> None:
    assert audit_changes(None, {"unit_id": "u1"}) == [Change("unit_id", None, "u1")]
    assert audit_changes({"unit_id": "u1"}, None) == [Change("unit_id", "u1", None)]
    assert audit_changes({"a": 1}, {"a": 1}) == []


def test_list__health_problem__badge_title_in_the_readers_language(db: None) -> None:
    exp = started_experiment(key="pricing-pro")
    store_snapshot(exp, results_json(health=[multiple_exposures(12)]))
    client = client_as("viewer")
    english = client.get("/experiments/").content.decode()
    chinese = client.get("/experiments/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'title="12 units (0.04% of exposed units) saw more than one variant' in english
    assert "saw more than one variant" not in chinese
    assert 'title="12 个单元' in chinese
