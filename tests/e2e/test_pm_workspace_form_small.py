"""Issue 24 in a real browser, in English and 简体中文: the new-experiment form (a key for a Chinese
name, payloads and builder rows that show their text whole, the calculator's metric choice, the
builder's words, a save that waits for the live check), the experiment list's filters, a refused
page inside the frame, and the favicon; at 1280 and 390 px wide."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from experiments.models import Experiment
from tests.e2e.conftest import SCREENSHOTS, login, make_user, screenshot
from tests.factories import LayerFactory, MetricFactory, ready_experiment

KEY_HINT = {"en": "This name gives no key", "zh-hans": "这个名称无法生成标识"}
OPERATOR = {"en": "version ≥", "zh-hans": "版本 ≥"}
METRIC_TYPE = {"en": "Conversion", "zh-hans": "转化"}
ADMINS_ONLY = {"en": "Only admins manage API keys.", "zh-hans": "只有管理员"}

# True when an input's, textarea's or select's current text fits inside it on one line.
FITS = """(el) => {
  const style = getComputedStyle(el);
  const context = document.createElement('canvas').getContext('2d');
  context.font = style.font;
  const text = el.tagName === 'SELECT' ? el.options[el.selectedIndex].text : el.value;
  const arrow = el.tagName === 'SELECT' ? 24 : 0;
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(text).width <= room - arrow;
}"""


def _library() -> None:
    MetricFactory(key="paid-conversion", name="Paid conversion", event="subscribe")
    LayerFactory(key="pricing", name="Pricing")


def _shot(page: Any, selector: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_new_experiment__chinese_name__key_field_says_what_to_type_and_texts_show_whole(
    page, live_server, language
) -> None:
    _library()
    make_user("pm", "editor")
    login(page, live_server.url, "pm", language=language)
    page.goto(live_server.url + "/experiments/new/")
    page.wait_for_load_state("networkidle")

    # A Chinese name gives no key: the key field, beside it, says what to type.
    page.fill("#id_name", "测试 定价")
    page.locator("#id_name").blur()
    page.locator("#err-key li").wait_for()
    assert KEY_HINT[language] in page.inner_text("#err-key")
    assert page.locator("#id_key").is_visible()
    assert page.locator("label[for=id_key]").is_visible()
    assert "pricing-test" in page.inner_text("#key-help")
    _shot(page, "#step-basics", f"pm-form-key-{language}")
    page.fill("#id_key", "price-test")

    # Payloads and builder rows show their text whole; the builder speaks the reader's language.
    payload = page.locator("textarea[name=variants-1-payload]")
    payload.fill('{"monthly_price": 29}')
    assert payload.evaluate(FITS), "the payload box breaks words"
    attribute = page.locator("input[name=tg-0-0-attr]")
    attribute.fill("app_version")
    assert attribute.evaluate(FITS), "the builder cuts the attribute off"
    operator = page.locator("select[name=tg-0-0-op]")
    operator.select_option("$vgte")
    assert operator.evaluate("el => el.options[el.selectedIndex].text") == OPERATOR[language]
    assert operator.evaluate(FITS)
    page.fill("input[name=tg-0-0-value]", "2.3.0")
    page.click("button[value=build-targeting]")
    page.wait_for_function("document.querySelector('#id_targeting').value.includes('2.3.0')")
    page.wait_for_load_state("networkidle")
    assert METRIC_TYPE[language] in page.inner_text("#step-metrics")
    page.locator("#calc-kind").wait_for()
    assert page.locator("#calc-kind").evaluate(FITS), "the calculator's metric choice is cut"
    _shot(page, "#step-variants", f"pm-form-variants-{language}")
    _shot(page, "#step-targeting", f"pm-form-targeting-{language}")
    _shot(page, ".calculator-slot", f"pm-form-calculator-{language}")
    _shot(page, "#step-metrics", f"pm-form-metrics-{language}")

    page.click("#save-button")
    page.wait_for_url(f"{live_server.url}/experiments/price-test/")
    saved = Experiment.objects.get(key="price-test")
    assert saved.name == "测试 定价"
    assert saved.targeting == {"app_version": {"$vgte": "2.3.0"}}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_new_experiment__phone__nothing_wider_than_the_screen(page, live_server, language) -> None:
    _library()
    make_user("pm", "editor")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server.url, "pm", language=language)
    page.goto(live_server.url + "/experiments/new/")
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "测试 定价")
    page.fill("textarea[name=variants-0-payload]", '{"monthly_price": 29}')
    page.fill("input[name=tg-0-0-attr]", "app_version")
    page.locator("input[name=tg-0-0-attr]").blur()
    page.locator("#err-key li").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("textarea[name=variants-0-payload]").evaluate(FITS)
    assert page.locator("input[name=tg-0-0-attr]").evaluate(FITS)
    _shot(page, "#step-basics", f"pm-form-390-basics-{language}")
    _shot(page, "#step-variants", f"pm-form-390-variants-{language}")
    _shot(page, "#step-targeting", f"pm-form-390-targeting-{language}")


def test_save__while_the_live_check_is_on_its_way__waits_for_it_without_send_abort(
    page, live_server
) -> None:
    """The PM types and clicks Save at once: the live check that the typing started finishes
    first, then the form is sent; no request is cut short (no htmx:sendAbort)."""
    _library()
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(live_server.url + "/experiments/new/")
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "Pro tier price")
    page.locator("#id_name").blur()
    page.wait_for_function("document.querySelector('#id_key').value === 'pro-tier-price'")
    page.wait_for_load_state("networkidle")

    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    held: list[Any] = []

    def hold_checks(route: Any) -> None:
        if "action=validate" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/experiments/new/", hold_checks)
    page.fill("#id_hypothesis", "A lower price raises paid conversion.")
    page.click("#save-button")  # the hypothesis's change event starts a live check first
    page.wait_for_timeout(400)
    assert held, "the live check started"
    assert page.url.endswith("/experiments/new/"), "the save waits for the live check"
    for route in held:
        route.continue_()
    page.unroute("**/experiments/new/")
    page.wait_for_url(f"{live_server.url}/experiments/pro-tier-price/")
    assert [text for text in logged if "sendAbort" in text] == []
    assert Experiment.objects.get(key="pro-tier-price").hypothesis.startswith("A lower price")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_experiment_list__filter_with_javascript__each_parameter_once(
    page, live_server, language
) -> None:
    ready_experiment(key="pricing-a", name="Pricing A", kind="pricing")
    make_user("pm", "editor")
    login(page, live_server.url, "pm", language=language)
    page.goto(live_server.url + "/experiments/?q=pricing")
    page.select_option("#id_status", "draft")
    page.wait_for_url("**status=draft**")
    page.wait_for_load_state("networkidle")
    query = parse_qs(urlparse(page.url).query, keep_blank_values=True)
    assert query["q"] == ["pricing"]
    assert query["status"] == ["draft"]
    assert "pricing-a" in page.inner_text("#experiment-table")
    new = page.locator(".page-head a.button-primary")
    assert new.locator("svg.icon").count() == 1
    screenshot(page, f"pm-list-filtered-{language}")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, ".page-head", f"pm-list-head-390-{language}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_api_keys__viewer__refused_inside_the_frame_with_the_reason(
    page, live_server, language
) -> None:
    make_user("viewer1", "viewer")
    login(page, live_server.url, "viewer1", language=language)
    response = page.goto(live_server.url + "/api-keys/")
    assert response.status == 403
    assert page.locator("nav.topbar").is_visible()
    assert ADMINS_ONLY[language] in page.inner_text("#forbidden-reason")
    assert page.locator("a.button[href='/experiments/']").is_visible()
    screenshot(page, f"pm-api-keys-refused-{language}")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"pm-api-keys-refused-390-{language}")


def test_favicon__every_page__answers_with_our_icon(page, live_server) -> None:
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(live_server.url + "/experiments/")
    page.wait_for_load_state("networkidle")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + href).status == 200
    icon = page.request.get(live_server.url + "/favicon.ico")
    assert icon.status == 200
    assert "svg" in icon.headers["content-type"]
    assert failed == []
