"""The experiment form's history segment controls in a real browser: a labelled checkbox per
kind, look-back, spend event and property, and the segment correction; a bad look-back is
answered next to its field when the plan step is checked (HTMX); English at 1280 px and
Chinese at 390 px, with screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import SCREENSHOTS, login, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_form__history_segments__labelled_checked_and_narrow(page: Any, live_server: Any) -> None:
    make_user("eda", "editor")
    login(page, live_server.url, "eda")
    page.goto(f"{live_server.url}/experiments/new/")
    box = page.locator("#history-segments")
    box.scroll_into_view_if_needed()
    page.get_by_label("RFM tier (recency, frequency, monetary value)").check()
    page.get_by_label("Look-back (days before exposure)").fill("400")
    page.get_by_label("Correction of segment p-values").select_option("bh")
    page.wait_for_selector("#err-history_days li")
    assert "1 to 365" in page.locator("#err-history_days").inner_text()
    assert "spend" in page.locator("#err-history_value_event").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(SCREENSHOTS / "form-history-segments-en.png"))

    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/experiments/new/")
    box = page.locator("#history-segments")
    text = box.inner_text()
    for words in ("按每个单元曝光前的历史分群", "新用户或老用户", "回看天数", "分群 p 值的校正"):
        assert words in text, words
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    box.screenshot(path=str(SCREENSHOTS / "form-history-segments-zh-390.png"))
