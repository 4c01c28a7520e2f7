"""The library pages: metrics (list, type-driven forms, the inline dialog), layers, API keys."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from core.api_keys import api_key_create
from core.models import ApiKey
from experiments.models import ExperimentMetric, Metric
from tests.factories import LayerFactory, MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db


def client_as(role: str) -> Client:
    user = get_user_model().objects.create_user(f"{role}-lib", password="pw-1")
    if role == "admin":
        user.is_superuser = user.is_staff = True
        user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = Client()
    client.force_login(user)
    return client


def metric_post(**overrides: str) -> dict[str, str]:
    data = {
        "key": "aov",
        "name": "Average order value",
        "type": "ratio",
        "numerator_event": "purchase",
        "numerator_value_field": "revenue",
        "denominator_event": "purchase",
        "denominator_value_field": "",
        "window_hours": "168",
        "direction": "up",
        "winsorize_percentile": "99",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_metric_list__shows_experiments_using_each_metric() -> None:
    ready_experiment(key="pricing-a")
    MetricFactory(key="unused", name="Unused one")
    html = client_as("viewer").get("/metrics/").content.decode()
    row = html.split("<code>conversion</code>")[1].split("</tr>")[0]
    assert "pricing-a" in row and "Primary" in row
    assert "Unused one" in html
    assert "/metrics/new/" not in html  # a viewer sees no write buttons


def test_metric_list__htmx_search__table_partial_only() -> None:
    MetricFactory(key="revenue", name="Revenue")
    MetricFactory(key="signup", name="Signup")
    html = client_as("editor").get("/metrics/?q=rev", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="metric-table"')
    assert "Revenue" in html and "Signup" not in html


def test_metric_create__ratio__saved_with_numerator_and_denominator() -> None:
    response = client_as("editor").post("/metrics/new/", metric_post())
    assert response.status_code == 302 and response["Location"] == "/metrics/"
    metric = Metric.objects.get(key="aov")
    assert metric.numerator == {"event": "purchase", "value_field": "revenue"}
    assert metric.denominator == {"event": "purchase", "value_field": None}
    assert metric.winsorize_percentile == 99 and metric.higher_is_better


def test_metric_create__ratio_without_denominator_event__error_next_to_that_field() -> None:
    html = (
        client_as("editor")
        .post("/metrics/new/", metric_post(denominator_event=""))
        .content.decode()
    )
    field = html.split('id="m-denominator-event"')[1].split("</div>")[0]
    assert "errorlist" in field
    assert not Metric.objects.exists()


def test_metric_create__mean_without_value_field__service_message_next_to_field() -> None:
    data = metric_post(key="arpu", type="mean", event="purchase", value_field="")
    html = client_as("editor").post("/metrics/new/", data).content.decode()
    field = html.split('id="m-value-field"')[1].split("</div>")[0]
    assert "A mean metric needs the value field to sum" in field
    assert not Metric.objects.exists()


def test_metric_form__type_changed_htmx__fields_follow_the_type() -> None:
    client = client_as("editor")
    html = client.post(
        "/metrics/new/", metric_post(type="retention", action="retype"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.lstrip().startswith("<form") and 'id="metric-form"' in html
    assert 'name="retention_day"' in html and 'name="numerator_event"' not in html
    ratio = client.post(
        "/metrics/new/", metric_post(action="retype"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="numerator_event"' in ratio and 'name="retention_day"' not in ratio
    assert not Metric.objects.exists()


def test_metric_create__retention_day__saved() -> None:
    data = metric_post(key="d7", type="retention", event="app_open", retention_day="7")
    client_as("editor").post("/metrics/new/", data)
    metric = Metric.objects.get(key="d7")
    assert metric.retention_day == 7 and metric.numerator is None


def test_metric_create__inline_dialog__created_partial_and_event_for_the_form() -> None:
    client = client_as("editor")
    form = client.get("/metrics/new/?inline=1", HTTP_HX_REQUEST="true").content.decode()
    assert form.lstrip().startswith("<form") and 'hx-post="/metrics/new/?inline=1"' in form
    response = client.post("/metrics/new/?inline=1", metric_post(), HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "metric-created"
    assert "Average order value" in response.content.decode()
    assert Metric.objects.filter(key="aov").exists()


def test_metric_edit__prefilled_and_changed() -> None:
    MetricFactory(key="conv", name="Conversion", event="purchase")
    client = client_as("editor")
    html = client.get("/metrics/conv/edit/").content.decode()
    assert 'value="purchase"' in html and "readonly" in html
    data = {"name": "Paid conversion", "type": "conversion", "event": "subscribe",
            "window_hours": "72", "direction": "down", "action": "save"}  # fmt: skip
    assert client.post("/metrics/conv/edit/", data).status_code == 302
    metric = Metric.objects.get(key="conv")
    assert (metric.name, metric.event, metric.window_hours) == ("Paid conversion", "subscribe", 72)
    assert metric.higher_is_better is False


def test_metric_pages__viewer__forms_forbidden_even_forged() -> None:
    MetricFactory(key="conv")
    viewer = client_as("viewer")
    assert viewer.get("/metrics/new/").status_code == 403
    assert viewer.post("/metrics/new/", metric_post()).status_code == 403
    assert viewer.post("/metrics/conv/edit/", metric_post(name="X")).status_code == 403
    assert not Metric.objects.filter(key="aov").exists()


def test_layer_list__bar_with_used_and_free_share_and_experiments() -> None:
    layer = LayerFactory(key="checkout", name="Checkout")
    started_experiment(key="holder", layer=layer, layer_share=0.25)
    ready_experiment(key="waiting", layer=layer)
    html = client_as("viewer").get("/layers/").content.decode()
    card = html.split('id="layer-checkout"')[1].split("</section>")[0]
    assert "25.0% used" in card and "75.0% free" in card
    assert re.search(r'class="used" style="left: 0(\.0)?%; width: 25(\.0)?%"', card)
    assert "holder" in card and "waiting" in card


def test_api_keys__editor_and_viewer__forbidden() -> None:
    assert client_as("editor").get("/api-keys/").status_code == 403
    viewer = client_as("viewer")
    assert viewer.post("/api-keys/", {"name": "x", "role": "admin"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_api_keys__admin_creates__secret_shown_once_and_it_authenticates() -> None:
    admin = client_as("admin")
    html = admin.post("/api-keys/", {"name": "checkout", "role": "app"}).content.decode()
    raw = re.search(r'id="raw-key" readonly value="(vk_[^"]+)"', html)[1]
    key = ApiKey.objects.get(name="checkout")
    assert key.key_hash == ApiKey.hash_key(raw) and key.role == "app"
    again = admin.get("/api-keys/").content.decode()
    assert raw not in again and key.prefix in again


def test_api_keys__htmx_create_without_name__error_next_to_name() -> None:
    html = (
        client_as("admin")
        .post("/api-keys/", {"name": " ", "role": "app"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert html.lstrip().startswith('<div id="api-keys"')
    assert "A key needs a name." in html.split('id="key-name"')[1].split("</div>")[0]


def test_api_keys__revoke__marked_revoked_and_editor_cannot() -> None:
    key, _ = api_key_create(name="old", role="viewer")
    assert client_as("editor").post(f"/api-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    html = (
        client_as("admin")
        .post(f"/api-keys/{key.pk}/revoke/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    key.refresh_from_db()
    assert key.revoked_at is not None and "revoked" in html


def test_calculator__proportion__matches_r_power_prop_test() -> None:
    # R: power.prop.test(p1 = 0.5, p2 = 0.75, power = 0.9) gives n = 76.65 per group.
    html = (
        client_as("viewer")
        .get("/calculator/?kind=rate&baseline=50&mde=50&power=90&alpha=0.05&variants=2&daily=14")
        .content.decode()
    )
    assert re.search(r'id="calc-units">77<', html)
    assert re.search(r'id="calc-days">11 days<', html)


def test_calculator__mean__matches_r_power_t_test_and_warns_under_a_week() -> None:
    # R: power.t.test(delta = 1, sd = 1, power = 0.9) gives n = 22.02 per group.
    html = (
        client_as("viewer")
        .get(
            "/calculator/?kind=mean&mean=10&std=1&mde=10&power=90&variants=3&daily=1000&embed=1",
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert html.lstrip().startswith('<div id="calculator"') and "<form" not in html
    assert re.search(r'id="calc-units">23<', html)
    assert "Under one full week" in html


def test_calculator__live_update__result_and_error_lists_only() -> None:
    html = (
        client_as("viewer")
        .get("/calculator/?part=result&embed=1&power=120", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert html.lstrip().startswith('<div id="calc-result"')
    assert 'name="power"' not in html  # what is typed is never replaced
    power = html.split('id="calc-err-power" hx-swap-oob="true"')[1].split("</ul>")[0]
    assert "Enter a number between 0 and 100." in power
    assert 'id="calc-err-daily" hx-swap-oob="true"></ul>' in html


def test_calculator__long_duration__eight_week_warning() -> None:
    html = client_as("viewer").get("/calculator/?baseline=2&mde=2&daily=100").content.decode()
    assert "Over 8 weeks" in html


def test_calculator__bad_power__error_next_to_the_field() -> None:
    html = client_as("viewer").get("/calculator/?power=120").content.decode()
    field = html.split('id="calc-power"')[1].split("</div>")[0]
    assert "Enter a number between 0 and 100." in field
    assert 'id="calc-units"' not in html


def test_unused_link__role_label_uses_model_choice() -> None:
    experiment = ready_experiment(key="g")
    metric = MetricFactory(key="latency", name="Latency")
    ExperimentMetric.objects.create(experiment=experiment, metric=metric, role="guardrail")
    html = client_as("viewer").get("/metrics/").content.decode()
    assert "Guardrail" in html.split("<code>latency</code>")[1].split("</tr>")[0]
