"""What a PM expects to find: duplicate an experiment as a new draft, start a new experiment
from a template, and create and edit layers, in English and 简体中文, on a laptop and a phone,
with and without JavaScript."""

from __future__ import annotations

from typing import Any

from experiments.demo import METRICS
from experiments.models import AuditLogEntry, Experiment, Layer, Metric
from tests.e2e.conftest import SCREENSHOTS, login, make_user, screenshot
from tests.factories import LayerFactory, started_experiment

PHONE = {"width": 390, "height": 844}


def _library(*, without: tuple[str, ...] = ()) -> None:
    for metric in METRICS:
        if metric["key"] not in without:
            Metric.objects.create(**metric)


def _pricing() -> Experiment:
    experiment = started_experiment(
        key="pro-price", name="Pro price", hypothesis="39 a month raises revenue per user."
    )
    for variant, price in zip(experiment.variants.all(), (29, 39), strict=True):
        variant.payload = {"monthly_price": price}
        variant.save()
    return experiment


def _part(page: Any, selector: str, name: str) -> None:
    """A screenshot of one part of the page, to read it at full size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _no_script_page(browser: Any, base_url: str, username: str, language: str = "en") -> Any:
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, base_url, username, language)
    return page


def test_duplicate__editor__copy_opens_as_a_draft_with_the_design(page, live_server) -> None:
    _pricing()
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/pro-price/")
    page.click("[data-action=duplicate]")
    page.wait_for_selector("#action-panel #duplicate-panel")
    assert page.input_value("#id_key") == "pro-price-copy"
    assert page.input_value("#id_name") == "Pro price (copy)"
    assert "2 variants with their payloads and weights" in page.inner_text("#duplicate-panel")
    screenshot(page, "pm-actions-duplicate-form")
    page.fill("#id_name", "Pro price, second try")
    page.click("#duplicate-panel button[type=submit]")
    page.wait_for_url("**/experiments/pro-price-copy/")
    assert "this is a new draft" in page.inner_text(".messages")
    assert "Pro price, second try" in page.inner_text("h1")
    copy = Experiment.objects.get(key="pro-price-copy")
    assert copy.status == "draft"
    assert [v.payload for v in copy.variants.all()] == [
        {"monthly_price": 29},
        {"monthly_price": 39},
    ]
    screenshot(page, "pm-actions-duplicate-done")


def test_duplicate__chinese_taken_key__message_next_to_the_key(page, live_server) -> None:
    _pricing()
    started_experiment(key="other")
    make_user("pm", "editor")
    login(page, live_server.url, "pm", "zh-hans")
    page.goto(live_server.url + "/experiments/pro-price/")
    page.click("[data-action=duplicate]")
    page.wait_for_selector("#duplicate-panel")
    assert "副本包含的内容" in page.inner_text("#duplicate-panel")
    page.fill("#id_key", "other")
    page.click("#duplicate-panel button[type=submit]")
    page.wait_for_selector("#duplicate-panel .has-error .errorlist")
    assert "已存在" in page.inner_text("#duplicate-panel .has-error")
    assert Experiment.objects.count() == 2
    screenshot(page, "pm-actions-duplicate-error-zh")
    page.set_viewport_size(PHONE)
    screenshot(page, "pm-actions-duplicate-error-zh-390")


def test_duplicate__without_javascript__link_and_form_still_work(browser, live_server) -> None:
    _pricing()
    make_user("pm", "editor")
    page = _no_script_page(browser, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/pro-price/")
    page.click("[data-action=duplicate]")
    page.wait_for_url("**/experiments/pro-price/duplicate/")
    page.click("#duplicate-panel button[type=submit]")
    page.wait_for_url("**/experiments/pro-price-copy/")
    assert AuditLogEntry.objects.filter(action="duplicate").count() == 2
    page.context.close()


def test_duplicate__viewer__no_button(page, live_server) -> None:
    _pricing()
    make_user("reader", "viewer")
    login(page, live_server.url, "reader")
    page.goto(live_server.url + "/experiments/pro-price/")
    assert page.locator("[data-action=duplicate]").count() == 0


def test_template__pricing__form_filled_in_and_saved_as_a_draft(page, live_server) -> None:
    _library()
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/new/")
    screenshot(page, "pm-actions-template-choice")
    page.click("#template-choice a[data-template=pricing]")
    page.wait_for_url("**/experiments/new/?template=pricing")
    assert page.input_value("#id_name") == "Pro price: 29 vs 39 per month"
    assert page.input_value("#id_key") == "pricing-test"
    assert '"monthly_price": 39' in page.input_value("textarea[name=variants-1-payload]")
    assert "✓ Pricing" in page.inner_text("#template-choice [aria-current=true]")
    screenshot(page, "pm-actions-template-pricing")
    _part(page, "#template-choice", "pm-actions-template-pricing-choice")
    page.click("#save-button")
    page.wait_for_url("**/experiments/pricing-test/")
    saved = Experiment.objects.get(key="pricing-test")
    roles = {link.metric.key: link.role for link in saved.metric_links.all()}
    assert roles == {
        "paid_conversion": "primary",
        "arpu": "secondary",
        "aov": "secondary",
        "refund_rate": "guardrail",
    }
    assert (saved.method, saved.correction, saved.cuped) == ("frequentist", "holm", True)


def test_template__chinese_metric_missing__note_and_phone(page, live_server) -> None:
    _library(without=("coupon_cost",))
    make_user("pm", "editor")
    login(page, live_server.url, "pm", "zh-hans")
    page.goto(live_server.url + "/experiments/new/")
    page.click("#template-choice a[data-template=promotion]")
    page.wait_for_selector("#template-missing")
    assert "coupon_cost" in page.inner_text("#template-missing")
    assert page.input_value("#id_name") == "首单优惠券：立减 10"
    screenshot(page, "pm-actions-template-promotion-zh")
    _part(page, "#template-choice", "pm-actions-template-promotion-zh-choice")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/experiments/new/?template=onboarding")
    screenshot(page, "pm-actions-template-onboarding-zh-390")
    _part(page, "#template-choice", "pm-actions-template-onboarding-zh-390-choice")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_template__without_javascript__the_links_prefill(browser, live_server) -> None:
    _library()
    make_user("pm", "editor")
    page = _no_script_page(browser, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/new/")
    page.click("#template-choice a[data-template=onboarding]")
    assert page.input_value("#id_name") == "New-user checklist instead of the tour"
    page.context.close()


def test_layers__editor_creates_fixes_a_taken_key_and_edits(page, live_server) -> None:
    LayerFactory(key="checkout", name="Checkout")
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/layers/")
    page.click("#layer-create")
    page.wait_for_url("**/layers/new/")
    page.fill("#layer-name", "Pricing pages")
    page.fill("#layer-key", "checkout")
    page.fill("#layer-description", "Every experiment that changes a price.")
    page.click("#layer-form button[type=submit]")
    page.wait_for_selector("#err-key")
    assert "exists" in page.inner_text("#err-key")
    assert page.input_value("#layer-name") == "Pricing pages"
    screenshot(page, "pm-actions-layer-error")
    page.fill("#layer-key", "pricing")
    page.click("#layer-form button[type=submit]")
    page.wait_for_url("**/layers/#layer-pricing")
    assert "Pricing pages" in page.inner_text("#layer-pricing")
    page.click("#layer-pricing >> text=Edit")
    page.wait_for_url("**/layers/pricing/edit/")
    page.fill("#layer-name", "Prices")
    page.click("#layer-form button[type=submit]")
    page.wait_for_url("**/layers/#layer-pricing")
    assert Layer.objects.get(key="pricing").name == "Prices"
    assert AuditLogEntry.objects.filter(object_type="layer").count() == 2
    screenshot(page, "pm-actions-layer-list")


def test_layers__chinese_form_and_phone(page, live_server) -> None:
    LayerFactory(key="checkout", name="结账")
    make_user("pm", "editor")
    login(page, live_server.url, "pm", "zh-hans")
    page.goto(live_server.url + "/layers/")
    assert "新建层" in page.inner_text(".page-head")
    screenshot(page, "pm-actions-layer-list-zh")
    page.goto(live_server.url + "/layers/new/")
    page.click("#layer-form button[type=submit]")
    page.wait_for_selector("#err-name")
    screenshot(page, "pm-actions-layer-form-zh")
    page.set_viewport_size(PHONE)
    screenshot(page, "pm-actions-layer-form-zh-390")
    page.goto(live_server.url + "/layers/")
    screenshot(page, "pm-actions-layer-list-zh-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_layers__viewer__no_controls_and_a_forced_url_gets_the_403_page(page, live_server) -> None:
    LayerFactory(key="checkout", name="Checkout")
    make_user("reader", "viewer")
    login(page, live_server.url, "reader")
    page.goto(live_server.url + "/layers/")
    assert page.locator("#layer-create").count() == 0
    assert page.locator("text=Edit").count() == 0
    response = page.goto(live_server.url + "/layers/checkout/edit/")
    assert response.status == 403
    assert "Viewers cannot create or change layers." in page.inner_text("main")
    assert page.locator("nav.topbar").count() == 1
    screenshot(page, "pm-actions-layer-403")
