"""Library pages in a browser: a metric created in the form's dialog, the metric form following
its type, the layers bar, and API keys for admins."""

from __future__ import annotations

from core.models import ApiKey
from experiments.models import Metric
from tests.e2e.conftest import login, make_user, screenshot
from tests.factories import LayerFactory, started_experiment


def test_metric_dialog__created_without_losing_the_form(page, live_server) -> None:
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/new/")
    page.fill("#id_name", "Checkout button colour")
    page.fill("#id_hypothesis", "A green button raises orders.")
    page.click("text=+ New metric")
    page.wait_for_selector("#metric-dialog[open] #m-name")
    page.fill("#m-name", "Orders per user")
    page.fill("#m-key", "orders-per-user")
    page.select_option("#m-type", "mean")
    page.wait_for_selector("#metric-dialog #m-value-field")
    page.fill("#metric-dialog #m-event", "purchase")
    page.click("#metric-dialog button[value=save]")
    page.wait_for_selector("#metric-dialog .errorlist li")  # a mean needs its value field
    assert "value field" in page.inner_text("#metric-dialog #m-value-field + ul")
    page.fill("#metric-dialog #m-value-field", "orders")
    page.click("#metric-dialog button[value=save]")
    page.wait_for_selector("#metric-dialog .notice.success")
    page.wait_for_selector("select[name=metric-role-orders-per-user]")
    page.click("#metric-dialog .notice button")
    assert Metric.objects.get(key="orders-per-user").value_field == "orders"
    assert page.input_value("#id_name") == "Checkout button colour"
    assert page.input_value("#id_hypothesis") == "A green button raises orders."


def test_metric_form__ratio_fields_and_list(page, live_server) -> None:
    make_user("pm2", "editor")
    login(page, live_server.url, "pm2")
    page.goto(live_server.url + "/metrics/new/")
    page.select_option("#m-type", "ratio")
    page.wait_for_selector("#m-numerator-event")
    assert page.locator("#m-event").count() == 0
    page.fill("#m-name", "Revenue per order")
    page.fill("#m-key", "aov")
    page.fill("#m-numerator-event", "purchase")
    page.fill("#m-numerator-value", "revenue")
    page.fill("#m-denominator-event", "purchase")
    page.click("button[value=save]")
    page.wait_for_url("**/metrics/")
    assert "Revenue per order" in page.inner_text("#metric-table")
    screenshot(page, "metric-list")


def test_layers_and_api_keys__admin(page, live_server) -> None:
    layer = LayerFactory(key="pricing", name="Pricing")
    started_experiment(key="pro-tier", layer=layer, layer_share=0.4)
    make_user("boss", "admin")
    login(page, live_server.url, "boss")
    page.goto(live_server.url + "/layers/")
    assert "40.0% used" in page.inner_text("#layer-pricing")
    screenshot(page, "layer-list")
    page.click("nav.topbar >> text=API keys")
    page.fill("#key-name", "checkout service")
    page.select_option("#key-role", "app")
    page.click("button:has-text('Create key')")
    page.wait_for_selector("#raw-key")
    raw = page.input_value("#raw-key")
    assert ApiKey.objects.get(name="checkout service").key_hash == ApiKey.hash_key(raw)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke')")
    page.wait_for_selector("text=revoked")
    assert ApiKey.objects.get(name="checkout service").revoked_at is not None
    screenshot(page, "api-keys")


def test_api_keys__editor__no_link_and_refused(page, live_server) -> None:
    make_user("ed", "editor")
    login(page, live_server.url, "ed")
    assert page.locator("nav.topbar >> text=API keys").count() == 0
    assert page.goto(live_server.url + "/api-keys/").status == 403
