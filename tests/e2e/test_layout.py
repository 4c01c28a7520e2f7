"""The page frame: navigation, language switch remembered, log out; nothing from other hosts."""

from __future__ import annotations

from tests.e2e.conftest import login, make_user, screenshot


def test_layout__switch_to_chinese__remembered_across_pages(page, live_server) -> None:
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    assert page.locator("nav.topbar").get_by_text("Experiments").is_visible()
    page.select_option("#language-select", "zh-hans")
    page.click("nav.topbar form button:has-text('Switch')")
    page.wait_for_load_state("networkidle")
    assert page.locator("nav.topbar").get_by_text("实验").first.is_visible()
    page.goto(live_server.url + "/experiments/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(page, "layout-zh-hans")


def test_layout__log_out__back_to_login(page, live_server) -> None:
    make_user("analyst", "viewer")
    login(page, live_server.url, "analyst")
    page.click("nav.topbar form button:has-text('Log out')")
    page.goto(live_server.url + "/experiments/")
    assert "/accounts/login/" in page.url
