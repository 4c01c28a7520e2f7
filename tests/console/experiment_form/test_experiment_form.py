"""The guided experiment form: full pages, HTMX partials, errors next to fields, roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from console.experiment_form.targeting_builder import Group as TgGroup
from console.experiment_form.targeting_builder import (
    Row,
    build_condition,
    explain,
    groups_from_condition,
)
from experiments.models import Experiment, ExperimentStatus
from tests.factories import LayerFactory, MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
NEW = "/experiments/new/"


def client_as(role: str, username: str | None = None) -> Client:
    user = get_user_model().objects.create_user(username or f"{role}-form", password="pw-1")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def post_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid pricing experiment as the form posts it."""
    data = {
        "name": "Pro tier price",
        "key": "pro-tier-price",
        "kind": "pricing",
        "hypothesis": "A lower price raises paid conversion.",
        "variants-0-key": "control",
        "variants-0-name": "Control",
        "variants-0-weight": "1",
        "variants-0-payload": '{"monthly_price": 29}',
        "variants-1-key": "cheaper",
        "variants-1-name": "Cheaper",
        "variants-1-weight": "1",
        "variants-1-payload": '{"monthly_price": 19}',
        "control": "0",
        "tg-0-mode": "and",
        "tg-0-0-attr": "",
        "tg-0-0-op": "$eq",
        "tg-0-0-value": "",
        "targeting": '{"country": {"$in": ["CN", "SG"]}}',
        "coverage": "100",
        "unit_attribute": "user_id",
        "layer": "",
        "layer_share": "100",
        "method": "frequentist",
        "correction": "none",
        "alpha": "0.05",
        "mde": "5",
        "test_attributes": "{}",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_create_page__editor__shows_every_step_with_labels() -> None:
    html = client_as("editor").get(NEW).content.decode()
    for heading in ("Basics", "Variants", "Targeting and traffic", "Metrics", "Analysis plan"):
        assert heading in html
    assert 'for="id_key"' in html and 'name="variants-1-payload"' in html
    assert "/calculator/?embed=1" in html


def test_create__valid_post__saves_draft_and_redirects_to_experiment_page() -> None:
    MetricFactory(key="paid-conversion")
    response = client_as("editor").post(
        NEW, post_data(**{"metric-role-paid-conversion": "primary"})
    )
    assert response.status_code == 302
    assert response["Location"] == "/experiments/pro-tier-price/"
    experiment = Experiment.objects.get(key="pro-tier-price")
    assert experiment.status == ExperimentStatus.DRAFT and experiment.kind == "pricing"
    assert experiment.owner.username == "editor-form"
    assert [(v.key, v.is_control, v.payload) for v in experiment.variants.all()] == [
        ("control", True, {"monthly_price": 29}),
        ("cheaper", False, {"monthly_price": 19}),
    ]
    assert experiment.targeting == {"country": {"$in": ["CN", "SG"]}}
    assert experiment.mde == pytest.approx(0.05)
    assert [(m.metric.key, m.role) for m in experiment.metric_links.all()] == [
        ("paid-conversion", "primary")
    ]


def test_create__key_left_empty__derived_from_the_name() -> None:
    client_as("editor").post(NEW, post_data(key="", name="Onboarding Checklist v2"))
    assert Experiment.objects.filter(key="onboarding-checklist-v2").exists()


def test_create__bad_payload_json__error_next_to_that_row_and_nothing_saved() -> None:
    response = client_as("editor").post(NEW, post_data(**{"variants-1-payload": "{price: 19"}))
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split('id="variant-row-1"')[1].split("</tr>")[0]
    assert "Not valid JSON" in row
    assert "{price: 19" in row  # what the person typed is kept
    assert not Experiment.objects.exists()


def test_create__zero_weight__service_message_on_the_weight_of_that_row() -> None:
    html = client_as("editor").post(NEW, post_data(**{"variants-1-weight": "0"})).content.decode()
    row = html.split('id="variant-row-1"')[1].split("</tr>")[0]
    assert "weights must be positive" in row
    assert not Experiment.objects.exists()


def test_create__unknown_operator__targeting_validator_message_next_to_json() -> None:
    html = (
        client_as("editor")
        .post(NEW, post_data(targeting='{"country": {"$inn": ["CN"]}}'))
        .content.decode()
    )
    assert "unknown operator &quot;$inn&quot; (did you mean &quot;$in&quot;?)" in html
    assert not Experiment.objects.exists()


def test_create__duplicate_key__error_next_to_key() -> None:
    ready_experiment(key="pro-tier-price")
    html = client_as("editor").post(NEW, post_data()).content.decode()
    assert "An experiment with key &quot;pro-tier-price&quot; exists." in html
    assert Experiment.objects.count() == 1


def test_create__bad_alpha__serializer_message_next_to_alpha() -> None:
    html = client_as("editor").post(NEW, post_data(alpha="0.7")).content.decode()
    field = html.split('id="id_alpha"')[1].split("</div>")[0]
    assert "0.4999" in field
    assert not Experiment.objects.exists()


def test_create__two_primary_metrics__message_in_metrics_step() -> None:
    MetricFactory(key="a")
    MetricFactory(key="b")
    data = post_data(**{"metric-role-a": "primary", "metric-role-b": "primary"})
    html = client_as("editor").post(NEW, data).content.decode()
    step = html.split('id="step-metrics"')[1]
    assert "exactly one primary metric" in step
    assert not Experiment.objects.exists()


def test_validate_step__htmx__only_that_steps_error_lists_swapped_out_of_band() -> None:
    ready_experiment(key="taken")
    data = post_data(key="taken", action="validate", step="basics", alpha="7")
    response = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    key_errors = html.split('id="err-key" hx-swap-oob="true"')[1].split("</ul>")[0]
    assert "An experiment with key &quot;taken&quot; exists." in key_errors
    assert 'id="err-name" hx-swap-oob="true"' in html  # cleared when fixed
    assert "<section" not in html and "err-alpha" not in html  # other steps untouched


def test_validate_step__variants__row_errors_and_live_shares() -> None:
    data = post_data(action="validate", step="variants", **{"variants-1-weight": "3",
                     "variants-0-payload": "[1,"})  # fmt: skip
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert "Not valid JSON" in html.split('id="err-variants-0-payload"')[1].split("</ul>")[0]
    assert '<span id="share-0" hx-swap-oob="true">25%</span>' in html
    assert '<span id="share-1" hx-swap-oob="true">75%</span>' in html


def test_validate_step__name_only__key_derived_in_the_partial() -> None:
    data = post_data(key="", name="Coupon For New Users", action="validate", step="basics")
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="id_key" name="key" value="coupon-for-new-users"' in html
    assert 'hx-swap-oob="true"' in html


def test_add_variant__htmx__variants_partial_with_a_third_row_and_shares() -> None:
    data = post_data(action="add-variant")
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<section id="step-variants"')
    assert 'name="variants-2-key"' in html
    assert html.count("33%") == 3
    assert not Experiment.objects.exists()


def test_add_variant__without_javascript__whole_form_rerendered_nothing_saved() -> None:
    html = client_as("editor").post(NEW, post_data(action="add-variant")).content.decode()
    assert "<html" in html and 'name="variants-2-key"' in html
    assert 'value="Pro tier price"' in html
    assert not Experiment.objects.exists()


def test_remove_variant__htmx__row_gone() -> None:
    data = post_data(action="remove-variant:1")
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="variants-1-key"' not in html and "100%" in html


def test_build_targeting__rows_in_or_group__json_written() -> None:
    data = post_data(
        action="build-targeting",
        targeting="{}",
        **{
            "tg-0-mode": "or",
            "tg-0-0-attr": "country",
            "tg-0-0-op": "$in",
            "tg-0-0-value": "CN, SG",
            "tg-0-1-attr": "app_version",
            "tg-0-1-op": "$vgte",
            "tg-0-1-value": "3.2.0",
        },
    )
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<section id="step-targeting"')
    textarea = html.split('id="id_targeting"')[1].split("</textarea>")[0].split(">", 1)[1]
    import html as html_lib

    assert json.loads(html_lib.unescape(textarea)) == {
        "$or": [{"country": {"$in": ["CN", "SG"]}}, {"app_version": {"$vgte": "3.2.0"}}]
    }


def test_test_unit__attributes_outside_targeting__no_with_failing_part() -> None:
    data = post_data(action="test-unit", test_attributes='{"country": "US"}')
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert "No, not targeted" in html and "country" in html.split("unit-test-result")[1]


def test_test_unit__matching_attributes__yes() -> None:
    data = post_data(action="test-unit", test_attributes='{"country": "SG"}')
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert "Yes, targeted" in html


def test_search_metrics__htmx__only_matching_and_chosen_metrics() -> None:
    MetricFactory(key="revenue", name="Revenue")
    MetricFactory(key="signup", name="Signup")
    MetricFactory(key="chosen", name="Chosen one")
    data = post_data(
        action="search-metrics", metric_query="reven", **{"metric-role-chosen": "guardrail"}
    )
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<section id="step-metrics"')
    assert "metric-role-revenue" in html and "metric-role-chosen" in html
    assert "metric-role-signup" not in html


def test_layer_choice__shows_its_free_share() -> None:
    layer = LayerFactory(key="pricing-layer", name="Pricing")
    started_experiment(key="holder", layer=layer, layer_share=0.3)
    data = post_data(action="validate", step="targeting", layer="pricing-layer")
    html = client_as("editor").post(NEW, data, HTTP_HX_REQUEST="true").content.decode()
    box = html.split('id="layer-bar-box" hx-swap-oob="true"')[1]
    assert "70.0% of the layer is free" in box
    assert 'class="bar layer-bar"' in box


def test_create_and_post__viewer__forbidden_and_nothing_saved() -> None:
    viewer = client_as("viewer")
    assert viewer.get(NEW).status_code == 403
    assert viewer.post(NEW, post_data()).status_code == 403
    assert not Experiment.objects.exists()


def test_edit__viewer_forged_post__forbidden_and_unchanged() -> None:
    experiment = ready_experiment(key="mine", name="Before")
    response = client_as("viewer").post("/experiments/mine/edit/", post_data(key="mine", name="X"))
    assert response.status_code == 403
    experiment.refresh_from_db()
    assert experiment.name == "Before"


def test_edit__anonymous__redirected_to_login() -> None:
    assert Client().get(NEW)["Location"].startswith("/accounts/login/")


def test_edit__draft__form_prefilled_and_saved() -> None:
    ready_experiment(key="draft-one", name="Old name")
    client = client_as("editor")
    html = client.get("/experiments/draft-one/edit/").content.decode()
    assert 'value="Old name"' in html and 'name="variants-1-key"' in html
    data = post_data(key="draft-one", name="New name", **{"metric-role-conversion": "primary"})
    assert client.post("/experiments/draft-one/edit/", data).status_code == 302
    assert Experiment.objects.get(key="draft-one").name == "New name"


def test_edit__running__locked_fields_read_only_with_reason_and_new_phase_link() -> None:
    started_experiment(key="live")
    html = client_as("editor").get("/experiments/live/edit/").content.decode()
    assert "Some fields are locked." in html
    assert "/experiments/live/actions/new-phase/" in html
    assert 'id="id_key" name="key" value="live" maxlength="64" readonly' in html
    assert "remove-variant" not in html and "add-variant" not in html


def test_edit__running_forged_weight_change__weights_kept_name_saved() -> None:
    experiment = started_experiment(key="live")
    data = post_data(
        key="live",
        name="Renamed",
        **{"variants-0-key": "control", "variants-1-key": "treatment", "variants-1-weight": "9",
           "metric-role-conversion": "primary"},
    )  # fmt: skip
    response = client_as("editor").post("/experiments/live/edit/", data)
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.name == "Renamed"
    assert [v.weight for v in experiment.variants.all()] == [1.0, 1.0]


def test_edit__running_lower_coverage__service_message_next_to_coverage() -> None:
    started_experiment(key="live")
    data = post_data(key="live", coverage="50", **{"metric-role-conversion": "primary"})
    html = client_as("editor").post("/experiments/live/edit/", data).content.decode()
    field = html.split('id="id_coverage"')[1].split("</div>")[0]
    assert "Lowering coverage from 1.0 to 0.5 would drop assigned units" in field


def test_edit__chinese__labels_translated_if_catalogue_has_them() -> None:
    ready_experiment(key="zh")
    html = client_as("editor").get(NEW, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in html


def test_builder__condition_round_trip__same_rows() -> None:
    groups = [
        TgGroup("and", [Row("country", "$in", "CN, SG"), Row("plan", "$eq", "pro")]),
        TgGroup("or", [Row("age", "$gte", "18"), Row("vip", "$exists", "true")]),
    ]
    condition = build_condition(groups)
    assert condition == {
        "$and": [
            {"$and": [{"country": {"$in": ["CN", "SG"]}}, {"plan": {"$eq": "pro"}}]},
            {"$or": [{"age": {"$gte": 18}}, {"vip": {"$exists": True}}]},
        ]
    }
    assert build_condition(groups_from_condition(condition)) == condition


def test_explain__failing_part__named() -> None:
    condition = {"country": {"$in": ["CN"]}, "app_version": {"$vgte": "3.2.0"}}
    verdict = explain({"country": "CN", "app_version": "3.1.9"}, condition)
    assert not verdict.targeted and "app_version" in verdict.failed_part
    assert explain({"country": "CN", "app_version": "3.10.0"}, condition).targeted


def test_edit__running_in_layer__its_own_slice_drawn_and_not_counted_free() -> None:
    layer = LayerFactory(key="pricing-layer", name="Pricing")
    started_experiment(key="live", layer=layer, layer_share=0.3)
    html = client_as("editor").get("/experiments/live/edit/").content.decode()
    box = html.split('id="layer-bar-box"')[1].split("</select>")[0]
    assert '<span class="mine" style="left: 0.0%; width: 30.0%">' in box
    assert "70.0% of the layer is free" in box and "this experiment's slice (30%)" in box


def test_edit__guardrail_harm_threshold__shown_kept_and_checked() -> None:
    from experiments.models import ExperimentMetric

    experiment = ready_experiment(key="guarded")
    ExperimentMetric.objects.create(
        experiment=experiment, metric=MetricFactory(key="refunds"), role="guardrail",
        harm_threshold=0.05, position=1,
    )  # fmt: skip
    client = client_as("editor")
    html = client.get("/experiments/guarded/edit/").content.decode()
    assert 'name="metric-harm-refunds" value="5"' in html
    roles = {"metric-role-conversion": "primary", "metric-role-refunds": "guardrail"}
    bad = post_data(key="guarded", **roles, **{"metric-harm-refunds": "lots"})
    page = client.post("/experiments/guarded/edit/", bad).content.decode()
    assert "refunds: Enter a number (a percentage)." in page.split('id="step-metrics"')[1]
    good = post_data(key="guarded", **roles, **{"metric-harm-refunds": "5"})
    assert client.post("/experiments/guarded/edit/", good).status_code == 302
    link = experiment.metric_links.get(metric__key="refunds")
    assert link.harm_threshold == pytest.approx(0.05)
