"""Issue 24 in a real browser, in English and 简体中文, at desktop and phone width: Try it
clears a stale answer and shows the error next to the field, the audit log reads field by
field, and QA overrides take a pasted list and refuse ids with spaces."""

from __future__ import annotations

from typing import Any

import pytest

from core.actors import Actor
from experiments.models import Experiment, Override
from experiments.services.experiments import experiment_create, experiment_update
from experiments.services.lifecycle import experiment_transition
from tests.e2e.conftest import login, make_user, screenshot
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db(transaction=True)
LANGUAGES = ["en", "zh-hans"]
PM = Actor.system("pm-ann")
HYPOTHESIS = (
    "Offering a Pro tier at 29 CNY per month lifts paid conversion by at least five percent "
    "among returning users in China and Singapore, without more refunds."
)
WORDS = {
    "en": {
        "no_answer": "No answer: the form has an error.",
        "created": "Created the experiment",
        "whitespace": "contains whitespace",
        "line": "Line 2",
        "saved": "3 units now always get pro.",
        "warnings": "Warnings",
    },
    "zh-hans": {
        "no_answer": "没有结果：表单有错误。",
        "created": "创建了实验",
        "whitespace": "含有空白",
        "line": "第 2 行",
        "saved": "3 个单元现在始终获得 pro。",
        "warnings": "警告",
    },
}


def pricing(key: str, name: str) -> Experiment:
    MetricFactory(key="conversion")
    return experiment_create(
        actor=PM,
        data={
            "key": key,
            "name": name,
            "kind": "pricing",
            "hypothesis": HYPOTHESIS,
            "targeting": {"country": {"$in": ["CN", "SG"]}},
            "coverage": 0.8,
            "variants": [
                {"key": "free", "name": "Free only", "weight": 1, "is_control": True},
                {"key": "pro", "name": "Pro at 29", "weight": 1, "payload": {"monthly_price": 29}},
            ],
            "metrics": [{"metric": "conversion", "role": "primary"}],
        },
    )


def started(key: str = "pricing-pro-tier", name: str = "Pro tier at 29 CNY") -> Experiment:
    return experiment_transition(actor=PM, experiment=pricing(key, name), action="start")


def phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px wide)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_try_it__broken_json_after_an_answer__error_at_field_and_old_answer_gone(
    page, live_server, language
) -> None:
    exp = started()
    make_user("ann", "editor")
    login(page, live_server.url, "ann", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/try/")
    page.fill("#id_unit_id", "u-1")
    page.fill("#id_attributes", '{"country": "CN"}')
    page.click("#try-panel button[type=submit]")
    page.wait_for_selector(".try-unit:has-text('u-1')")
    assert page.locator(".try-variant strong").inner_text() in ("free", "pro")

    page.fill("#id_unit_id", "u-2")
    page.fill("#id_attributes", '{"country": ')
    page.click("#try-panel button[type=submit]")
    page.wait_for_selector(".try-error")
    # The error sits next to the field, in words, and the answer of u-1 is gone.
    field = page.locator(".field.has-error:has(#id_attributes)")
    assert field.locator(".errorlist").is_visible()
    assert page.locator("#id_attributes").get_attribute("aria-invalid") == "true"
    assert page.locator(".try-variant").count() == 0 and page.locator(".try-unit").count() == 0
    assert WORDS[language]["no_answer"] in page.locator("#try-result").inner_text()
    assert page.input_value("#id_unit_id") == "u-2"
    screenshot(page, f"pm-try-it-error-{language}")
    phone(page)
    no_sideways_scroll(page)
    screenshot(page, f"pm-try-it-error-{language}-390")

    # Fixing the field gives u-2's answer.
    page.fill("#id_attributes", '{"country": "SG"}')
    page.click("#try-panel button[type=submit]")
    page.wait_for_selector(".try-unit:has-text('u-2')")
    assert page.locator(".try-error").count() == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_audit_log__field_by_field_expandable_and_warnings_in_sentences(
    page, live_server, language
) -> None:
    started("pricing-annual", "Annual plan discount")
    exp = started()  # overlaps the first one: its start entry carries a warning
    experiment_update(
        actor=PM,
        experiment=exp,
        data={"coverage": 0.9, "targeting": {"country": {"$in": ["CN", "SG", "MY"]}}},
    )
    make_user("ann", "editor")
    login(page, live_server.url, "ann", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/audit/")
    words = WORDS[language]
    created = page.locator("article.audit-entry", has_text=words["created"])
    assert not created.locator("table").is_visible()  # folded until asked for
    created.locator("summary").first.click()
    assert created.locator("table").is_visible()
    long_value = created.locator("details.audit-value").first
    assert HYPOTHESIS not in long_value.inner_text()  # shortened ...
    long_value.locator("summary").click()
    assert HYPOTHESIS in long_value.inner_text()  # ... and whole when opened
    text = page.locator("#tab-panel").inner_text()
    assert '{"' not in text and '\\"' not in text  # no raw JSON, no escaped quotes
    edited = page.locator("article.audit-entry").first
    assert "80%" in edited.locator("td.before").first.inner_text()
    assert "90%" in edited.locator("td.after").first.inner_text()
    warning = page.locator("tr", has_text=words["warnings"]).locator("ul.audit-lines li")
    assert warning.count() == 1 and "pricing-annual" in warning.inner_text()
    screenshot(page, f"pm-audit-log-{language}")
    phone(page)
    no_sideways_scroll(page)
    screenshot(page, f"pm-audit-log-{language}-390")


@pytest.mark.parametrize("language", LANGUAGES)
def test_overrides__pasted_list__space_refused_at_field_then_all_stored(
    page, live_server, language
) -> None:
    exp = started()
    make_user("ann", "editor")
    login(page, live_server.url, "ann", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/overrides/")
    words = WORDS[language]
    page.fill("#id_unit_id", "qa-anna\nqa-bob qa-carl")
    page.select_option("#id_variant", "pro")
    page.click("#overrides-section form.override-form button[type=submit]")
    page.wait_for_selector(".field.has-error:has(#id_unit_id)")
    error = page.locator(".field.has-error:has(#id_unit_id) .errorlist").inner_text()
    assert words["line"] in error and words["whitespace"] in error and "qa-bob qa-carl" in error
    assert not Override.objects.filter(experiment=exp).exists()
    screenshot(page, f"pm-overrides-error-{language}")

    page.fill("#id_unit_id", "qa-anna\nqa-bob\nqa-carl")
    page.click("#overrides-section form.override-form button[type=submit]")
    page.wait_for_selector(f"#overrides-section .notice.success:has-text('{words['saved']}')")
    rows = page.locator("#overrides-section tbody tr")
    assert rows.count() == 3
    stored = set(Override.objects.filter(experiment=exp).values_list("unit_id", flat=True))
    assert stored == {"qa-anna", "qa-bob", "qa-carl"}
    screenshot(page, f"pm-overrides-saved-{language}")
    phone(page)
    no_sideways_scroll(page)
    screenshot(page, f"pm-overrides-saved-{language}-390")


def test_overrides__without_javascript__error_next_to_field(browser, live_server) -> None:
    exp = started()
    make_user("ann", "editor")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        login(page, live_server.url, "ann")
        page.goto(f"{live_server.url}/experiments/{exp.key}/overrides/")
        page.fill("#id_unit_id", "qa-anna qa-bob")
        page.click("#overrides-section form.override-form button[type=submit]")
        page.wait_for_selector(".field.has-error:has(#id_unit_id)")
        assert "contains whitespace" in page.locator(".field.has-error .errorlist").inner_text()
        assert not Override.objects.exists()
    finally:
        context.close()
