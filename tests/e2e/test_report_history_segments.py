"""The report's history segment tabs in a real browser: the tabs by name, a tab swapped in
with HTMX, values in words ("R high · F mid · M low", champions), p-values labelled as
adjusted; English at 1280 px and Chinese at 390 px, with screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.report.test_report_history_segments import history_experiment
from tests.e2e.conftest import login, make_user, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_report__history_segments__tabs_in_english_and_chinese_at_390px(
    page: Any, live_server: Any
) -> None:
    exp = history_experiment()
    make_user("viv", "viewer")
    login(page, live_server.url, "viv")
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    tabs = page.locator("#segments nav.tabs a")
    names = tabs.all_inner_texts()
    assert {"New or returning", "RFM tier", "RFM group", "Spend tier"} <= set(names)
    page.get_by_role("link", name="RFM group", exact=True).click()
    page.wait_for_selector("#segments h3:has-text('RFM group = Champions')")
    section = page.locator("#segments").inner_text()
    assert "RFM group = At risk" in section and "p-value, adjusted (bh)" in section.lower()
    page.locator("#segments").scroll_into_view_if_needed()
    screenshot(page, "report-history-segments-en")

    page.get_by_role("link", name="RFM tier", exact=True).click()
    page.wait_for_selector("#segments h3:has-text('RFM tier = R high · F high · M high')")

    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/?segment=history:rfm_group")
    section = page.locator("#segments").inner_text()
    for words in ("新用户或老用户", "RFM 分组", "核心用户", "流失风险", "校正"):
        assert words in section, words
    assert "Champions" not in section
    # Nothing wider than the phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    path = screenshot(page, "report-history-segments-zh-390")
    # The segments card alone, readable at the phone's width.
    page.locator("#segments").screenshot(path=str(path.with_name(path.stem + "-segments.png")))
