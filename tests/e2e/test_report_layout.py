"""The report's layout in a real browser: the effect over time across its card with dates and
a scale set by the later snapshots, its values by hover, focus and without JavaScript; the
report and the experiment list at a phone's 390 px, one card per metric and variant with the
effect and interval on screen; the printable view with economics, segments and SRM. In
English and in Simplified Chinese."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import polib
import pytest

from analysis.services.snapshots import experiment_refresh
from experiments.models import Experiment
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.e2e.conftest import SCREENSHOTS, login, make_user, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DAY = dt.timedelta(days=1)
PHONE = {"width": 390, "height": 844}
SNAPSHOT_DAYS = (1, 2, 3, 5, 7, 9, 11, 14)


def _catalogue_with_pending(tmp_path: Path) -> Path:
    """The zh_Hans catalogue plus any pending pair not merged yet, compiled."""
    catalogue = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {entry.msgid for entry in catalogue if entry.msgstr or entry.msgstr_plural}
    for pending in sorted((ROOT / "locale/pending").glob("*.json")):
        for msgid, msgstr in json.loads(pending.read_text()).items():
            if msgid not in known:
                known.add(msgid)
                flags = ["python-format"] if "%(" in msgid else []
                catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    target = tmp_path / "locale/zh_Hans/LC_MESSAGES"
    target.mkdir(parents=True)
    catalogue.save_as_mofile(str(target / "django.mo"))
    return tmp_path / "locale"


def _two_weeks() -> Experiment:
    """A checkout test over 14 days, 80 users a day, treatment converting at 30% and control at
    25%, with a snapshot on eight of the days: the first day's interval is wide."""
    exp = experiment_with(
        [
            (metric("conv", name="Checkout conversion"), "primary"),
            (metric("spend", "mean", value_field="revenue", name="Spend per user"), "secondary"),
        ],
        key="checkout-copy",
        name="Checkout copy",
    )
    rng = random.Random(23)
    d = Data(exp)
    for day in range(14):
        for i in range(80):
            unit = f"d{day}-u{i}"
            treated = i % 2 == 1
            at = T0 + day * DAY + dt.timedelta(minutes=10 * i)
            platform = ("ios", "android")[i % 4 // 2]
            d.expose(
                unit, "treatment" if treated else "control", at, attributes={"platform": platform}
            )
            if rng.random() < (0.30 if treated else 0.25):
                d.event(unit, at + dt.timedelta(hours=1), value=round(rng.uniform(5, 60), 2))
    d.save()
    for day in SNAPSHOT_DAYS:
        experiment_refresh(experiment=exp, as_of=T0 + day * DAY)
    exp.refresh_from_db()
    return exp


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_effect_chart__two_weeks__full_width_dates_clipped_early_band_and_values(
    page, live_server, settings, tmp_path, language
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _two_weeks()
    make_user("ana", "viewer")
    login(page, live_server.url, "ana", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    page.locator("section.report-table:not(.economics)").first.screenshot(
        path=str(SCREENSHOTS / f"report-primary-{language}.png")
    )
    page.click("#table-primary ~ .table-wrap a[href$='/metrics/conv/']")
    chart = page.wait_for_selector("#metric-detail svg.effect-over-time")

    card = page.locator("#metric-detail").bounding_box()
    box = chart.bounding_box()
    assert box["width"] >= card["width"] - 2 * 24, (box, card)  # the card's width, less padding
    dates = page.locator("#metric-detail .x-tick").all_text_contents()
    assert len(dates) >= 3
    pattern = r"^[A-Z][a-z]{2}\.? \d{1,2}$" if language == "en" else r"^\d{1,2}月\d{1,2}日$"
    assert all(re.match(pattern, label) for label in dates), dates
    assert page.locator("#metric-detail g.pt").count() == len(SNAPSHOT_DAYS)
    # The first day's interval runs off the chart and is marked; the later ones are on it.
    assert page.locator("#metric-detail .clip-mark").count() >= 1
    assert page.locator("#metric-detail .clip-note").is_visible()
    y_ticks = page.locator("#metric-detail .y-tick").all_text_contents()
    assert all(abs(float(t.rstrip("%").replace("+", ""))) < 150 for t in y_ticks), y_ticks

    # Focus shows the point's date, effect, interval and units; so does the values table.
    last = page.locator("#metric-detail g.pt").last
    last.focus()
    tip = last.locator("text.tip")
    assert tip.is_visible()
    tip_text = tip.text_content()
    assert "%" in tip_text and "[" in tip_text and ("Units" in tip_text or "单元数" in tip_text)
    assert page.locator("#metric-detail details.chart-values tbody tr").count() == len(
        SNAPSHOT_DAYS
    )
    assert page.locator("#metric-detail details.daily-units-fold").get_attribute("open") is None
    screenshot(page, f"report-effect-chart-{language}")
    page.locator("#metric-detail").screenshot(
        path=str(SCREENSHOTS / f"effect-chart-{language}.png")
    )

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/metrics/conv/")
    chart = page.wait_for_selector("svg.effect-over-time")
    card = page.locator("#metric-detail").bounding_box()
    box = chart.bounding_box()
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
    assert box["width"] >= card["width"] - 2 * 16
    visible = [t for t in page.locator(".x-tick").all() if t.is_visible()]
    assert len(visible) >= 2
    _no_sideways_scroll(page)
    screenshot(page, f"report-effect-chart-phone-{language}")


def test_effect_chart__no_javascript__values_table_opens(browser, live_server) -> None:
    exp = _two_weeks()
    make_user("nojs", "viewer")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        login(page, live_server.url, "nojs")
        page.goto(f"{live_server.url}/experiments/{exp.key}/results/metrics/conv/")
        page.click("details.chart-values summary")
        rows = page.locator("details.chart-values tbody tr")
        assert rows.count() == len(SNAPSHOT_DAYS)
        assert rows.first.is_visible() and "%" in rows.first.inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_report_and_list__phone__one_card_per_row_effect_and_interval_on_screen(
    page, live_server, settings, tmp_path, language
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _two_weeks()
    make_user("li", "viewer")
    page.set_viewport_size(PHONE)
    login(page, live_server.url, "li", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    page.wait_for_selector(".report-table")
    _no_sideways_scroll(page)
    rows = page.locator(".report-table:not(.economics) tbody tr")
    assert rows.count() >= 2
    for i in range(rows.count()):
        row = rows.nth(i)
        row.scroll_into_view_if_needed()
        for cell in ("effect", "interval", "p"):
            box = row.locator(f'td[data-col="{cell}"]').bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (cell, box)
        row_box = row.bounding_box()
        assert row_box["x"] + row_box["width"] <= PHONE["width"]
        # Effect and interval come before the control and variant values.
        effect_y = row.locator('td[data-col="effect"]').bounding_box()["y"]
        interval_y = row.locator('td[data-col="interval"]').bounding_box()["y"]
        control_y = row.locator('td[data-col="control"]').bounding_box()["y"]
        assert effect_y < control_y and interval_y < control_y
    label = page.evaluate(
        "getComputedStyle(document.querySelector('.report-table td[data-col=effect]'),"
        " '::before').content"
    )
    assert label.strip('"') in ("Relative effect", "相对效应")
    screenshot(page, f"report-phone-{language}")
    page.locator("section.report-table:not(.economics)").first.screenshot(
        path=str(SCREENSHOTS / f"report-phone-primary-{language}.png")
    )
    page.locator(".report-header").screenshot(
        path=str(SCREENSHOTS / f"report-phone-header-{language}.png")
    )
    page.locator("#segments").screenshot(
        path=str(SCREENSHOTS / f"report-phone-segments-{language}.png")
    )

    page.goto(f"{live_server.url}/experiments/")
    page.wait_for_selector("#experiment-table tbody tr")
    _no_sideways_scroll(page)
    lift = page.locator('#experiment-table td[data-col="lift"]').first.bounding_box()
    assert lift["x"] >= 0 and lift["x"] + lift["width"] <= PHONE["width"]
    screenshot(page, f"experiment-list-phone-{language}")
    page.locator("#experiment-table").screenshot(
        path=str(SCREENSHOTS / f"experiment-list-phone-table-{language}.png")
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_print_view__economics_segments_and_srm(
    page, live_server, settings, tmp_path, language
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _two_weeks()
    exp.kind = "pricing"
    exp.save()
    experiment_refresh(experiment=exp, as_of=T0 + 14 * DAY + dt.timedelta(hours=1))
    make_user("pat", "viewer")
    login(page, live_server.url, "pat", language=language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    page.click("a[href$='/print/']")
    page.wait_for_selector("main h1")
    assert page.locator(".print-srm .units-split tbody tr").count() == 2
    assert page.locator("#economics").count() == 1
    assert page.locator(".print-segments .segment-value").count() == 2  # platform = ios, android
    words = ("Sample ratio (SRM)", "Segments") if language == "en" else ("样本比例", "细分")
    text = page.locator("main").inner_text()
    assert all(w in text for w in words), words
    page.emulate_media(media="print")
    screenshot(page, f"report-print-{language}")
