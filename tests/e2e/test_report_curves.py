"""A curve metric's detail page in a real browser: the retention curve's arms with interval
bands, its effect by day and the values table, in English at 1280 px; the value to date curve
in Chinese at 390 px, nothing wider than the phone; with screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.report.test_report_curves import curve_experiment
from tests.e2e.conftest import login, make_user, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_metric_page__curves__english_and_chinese_at_390px(page: Any, live_server: Any) -> None:
    exp = curve_experiment()
    make_user("viv", "viewer")
    login(page, live_server.url, "viv")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/metrics/d_retention/")
    curve = page.locator("section.curve")
    assert curve.locator("svg.effect-over-time").count() == 2
    text = curve.inner_text()
    assert "Retention by day since exposure" in text and "The decision reads W1" in text
    assert "W1" in text and "M1" not in text  # the table is folded
    curve.get_by_text("Values at each point").click()
    assert "M1" in curve.inner_text() and "D30" in curve.inner_text()
    curve.scroll_into_view_if_needed()
    screenshot(page, "report-retention-curve-en")

    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/metrics/ltv_new10/")
    text = page.locator("section.curve").inner_text()
    for words in ("累计价值", "决策看 D7", "相对效应"):
        assert words in text, words
    assert "Value to date by day" not in text
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    screenshot(page, "report-value-curve-zh-390")

    page.goto(f"{live_server.url}/experiments/{exp.key}/results/metrics/d_retention/")
    assert "留存" in page.locator("section.curve").inner_text()
    page.locator("section.curve").get_by_text("各点数值").click()
    screenshot(page, "report-retention-curve-zh-390")
