"""A PM creates a pricing experiment through the guided form, fixes a mistake, and starts it."""

from __future__ import annotations

from experiments.models import Experiment
from tests.e2e.conftest import login, make_user, screenshot
from tests.factories import LayerFactory, MetricFactory


def _library() -> None:
    MetricFactory(key="paid-conversion", name="Paid conversion", event="subscribe")
    MetricFactory(key="refunds", name="Refund rate", event="refund")
    LayerFactory(key="pricing", name="Pricing")


def test_guided_form__pm_creates_fixes_error_and_starts(page, live_server) -> None:
    _library()
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/")
    page.goto(live_server.url + "/experiments/new/")

    # 1 basics: the key follows the name (HTMX step validation).
    page.fill("#id_name", "Pro tier price")
    page.select_option("#id_kind", "pricing")
    page.fill(
        "#id_hypothesis", "A lower monthly price raises paid conversion without more refunds."
    )
    page.wait_for_function("document.querySelector('#id_key').value === 'pro-tier-price'")

    # 2 variants: a third arm, payloads; a mistake in the JSON of one payload.
    page.click("button[value=add-variant]")
    page.wait_for_selector("input[name=variants-2-key]")
    page.fill("input[name=variants-0-key]", "price-29")
    page.fill("textarea[name=variants-0-payload]", '{"monthly_price": 29}')
    page.fill("input[name=variants-1-key]", "price-24")
    page.fill("textarea[name=variants-1-payload]", '{"monthly_price": 24')
    page.fill("input[name=variants-2-key]", "price-19")
    page.fill("input[name=variants-2-name]", "19 a month")
    page.fill("textarea[name=variants-2-payload]", '{"monthly_price": 19}')
    page.locator("textarea[name=variants-2-payload]").blur()
    error = page.locator("#err-variants-1-payload li")
    error.wait_for()
    assert "Not valid JSON" in error.inner_text()
    assert page.locator("#variant-row-0 .errorlist li").count() == 0

    # 3 targeting with the builder, then a unit check.
    page.fill("input[name=tg-0-0-attr]", "country")
    page.select_option("select[name=tg-0-0-op]", "$in")
    page.fill("input[name=tg-0-0-value]", "CN, SG")
    page.click("button[value=build-targeting]")
    page.wait_for_function("document.querySelector('#id_targeting').value.includes('SG')")
    page.fill("#id_test_attributes", '{"country": "US"}')
    page.click("button[value=test-unit]")
    page.wait_for_selector("#unit-test-result")
    assert "No, not targeted" in page.inner_text("#unit-test-result")
    page.select_option("#id_layer", "pricing")
    page.wait_for_selector(".layer-bar")

    # 4 metrics: search the library, pick the primary and a guardrail.
    page.fill("#id_metric_query", "paid")
    page.wait_for_function("!document.querySelector('[name=metric-role-refunds]')")
    page.select_option("select[name=metric-role-paid-conversion]", "primary")
    page.wait_for_load_state("networkidle")
    page.fill("#id_metric_query", "")
    page.wait_for_selector("select[name=metric-role-refunds]")
    page.select_option("select[name=metric-role-refunds]", "guardrail")
    page.wait_for_load_state("networkidle")

    # 5 plan, with the calculator loaded into the step.
    page.wait_for_selector("#calc-units")
    page.fill("#id_mde", "10")
    page.locator("#id_mde").blur()
    page.wait_for_function("document.querySelector('#calc-mde').value === '10'")
    page.wait_for_load_state("networkidle")
    page.fill("#calc-daily", "20000")
    page.wait_for_function("document.querySelector('#calc-days').textContent.trim() === '2 days'")
    assert page.inner_text("#calc-units") == "14,751"  # the engine's sample_size, rounded up
    assert "Under one full week" in page.inner_text("#calc-result")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "experiment-form")

    # Saving with the mistake keeps the person on the form, the error beside the payload.
    page.click("#save-button")
    page.wait_for_load_state("networkidle")
    assert "/experiments/new/" in page.url
    assert "Not valid JSON" in page.inner_text("#variant-row-1")
    assert not Experiment.objects.filter(key="pro-tier-price").exists()
    assert page.locator(".steps .badge-bad").count() == 1  # the variants step is marked
    screenshot(page, "experiment-form-error")

    page.fill("textarea[name=variants-1-payload]", '{"monthly_price": 24}')
    page.click("#save-button")
    page.wait_for_url("**/experiments/pro-tier-price/")
    experiment = Experiment.objects.get(key="pro-tier-price")
    assert experiment.status == "draft"
    assert experiment.targeting == {"country": {"$in": ["CN", "SG"]}}
    assert [v.payload["monthly_price"] for v in experiment.variants.all()] == [29, 24, 19]

    # Start it from the experiment page.
    page.click("a[data-action=start]")
    page.locator("#confirm-panel button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    experiment.refresh_from_db()
    assert experiment.status == "running"


def test_guided_form__chinese__labels_translated_screenshot(page, live_server) -> None:
    _library()
    make_user("pm-zh", "editor")
    login(page, live_server.url, "pm-zh", language="zh-hans")
    page.goto(live_server.url + "/experiments/new/")
    page.fill("#id_name", "专业版定价")
    page.wait_for_selector("#calc-units")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(page, "experiment-form-zh-hans")


def test_guided_form__viewer__refused(page, live_server) -> None:
    make_user("reader", "viewer")
    login(page, live_server.url, "reader")
    response = page.goto(live_server.url + "/experiments/new/")
    assert response.status == 403
