"""One decision object, one voice, and numbers as people read them, in a real browser
(issue 23), in English and 简体中文: a zero-control guardrail that is significantly harmed is
named in the decision banner and shows its absolute effect with numeric bounds on its row; the
demo's pricing report claims "earns more" only when the revenue difference's interval agrees;
rates in %, money with its currency, counts grouped. Screenshots for the README."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analysis.services.snapshots import experiment_refresh
from tests.analysis.helpers import Data, experiment_with, metric
from tests.e2e.conftest import SCREENSHOTS, login, make_user, screenshot
from tests.e2e.test_report import _catalogue_with_pending
from tests.e2e.test_report_economics import _demo

pytestmark = pytest.mark.django_db(transaction=True)
H = dt.timedelta(hours=1)


def _coupon_with_refunds():
    """Conversion the same in both arms; refunds: none in the control, one in four units of
    NEW10 (a control mean of 0: no relative effect exists)."""
    t0 = dt.datetime.now(dt.UTC) - 20 * H
    conv = metric("paid_conversion", name="Paid conversion")
    refunds = metric("refund_rate", name="Refund rate", event="refund", higher_is_better=False)
    exp = experiment_with(
        [(conv, "primary"), (refunds, "guardrail")],
        key="new10-coupon",
        name="NEW10 coupon",
        variants=("none", "new10"),
    )
    d = Data(exp)
    for i in range(2400):
        variant = ("none", "new10")[i % 2]
        d.expose(f"u{i}", variant, t0)
        if i % 100 < 7:
            d.event(f"u{i}", t0 + H)
        if variant == "new10" and i % 8 == 1:
            d.event(f"u{i}", t0 + H, name="refund")
    d.save()
    experiment_refresh(experiment=exp, as_of=t0 + 10 * H)
    return exp


@pytest.mark.parametrize(
    ("language", "worse", "not_enough", "pp"),
    [("en", "worse", "not enough data", "pp"), ("zh-hans", "更差", "数据不足", "个百分点")],
)
def test_report__zero_control_guardrail_harmed__banner_names_it_and_row_has_bounds(
    page, live_server, settings, tmp_path, language, worse, not_enough, pp
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _coupon_with_refunds()
    make_user("pm", "viewer")
    login(page, live_server.url, "pm", language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    banner = page.locator("section.decision").inner_text()
    assert "Refund rate" in banner and "New10" in banner
    row = page.locator('tr[data-metric="refund_rate"]').inner_text()
    assert re.search(rf"\[\+[\d.]+ ?{pp}, \+[\d.]+ ?{pp}\]", row), row
    assert worse in row and not_enough not in row
    # Rates in %, unit counts grouped.
    assert re.search(r"\d\.\d\d%", page.locator('tr[data-metric="paid_conversion"]').inner_text())
    assert "1,200" in page.locator("table.units-split").inner_text()
    screenshot(page, f"report-one-voice-{language}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_report__demo_pricing__earns_more_only_when_revenue_interval_agrees(
    page, live_server, settings, tmp_path, language
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _demo()
    make_user("pm", "viewer")
    login(page, live_server.url, "pm", language)
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    section = page.locator("#economics")
    section.wait_for()
    assert section.locator(".break-even").count() >= 1
    for variant in section.locator(".break-even").all():
        key = variant.get_attribute("data-variant")
        row = section.locator(f'table.economics-impact tr[data-variant="{key}"]')
        revenue = row.locator("td").last.inner_text()  # revenue vs control, with its tone
        agrees = any(word in revenue for word in ("better", "worse", "更好", "更差"))
        if not agrees:
            badge = variant.locator(".break-even-verdict .badge").inner_text()
            assert "Above break-even" not in badge and "Below break-even" not in badge
            assert "高于盈亏平衡" not in badge and "低于盈亏平衡" not in badge
    # Money with its currency (the demo's ARPU is in CNY).
    arpu = page.locator('tr[data-metric="arpu"]').first.inner_text()
    assert "¥" in arpu
    section.screenshot(path=str(SCREENSHOTS / f"report-economics-claims-{language}.png"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_metric_form__currency_format__saved_with_its_code(
    page, live_server, settings, tmp_path, language
) -> None:
    from experiments.models import Metric

    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    make_user("pm3", "editor")
    login(page, live_server.url, "pm3", language)
    page.goto(live_server.url + "/metrics/new/")
    page.select_option("#m-type", "mean")
    page.wait_for_selector("#m-value-field")
    page.fill("#m-name", "Revenue per user")
    page.fill("#m-key", "arpu-cny")
    page.fill("#m-event", "purchase")
    page.fill("#m-value-field", "revenue")
    page.select_option("#m-display-format", "currency")
    page.click("button[value=save]")
    # A currency format without its currency is refused next to the field.
    page.wait_for_selector(".field.has-error #m-currency")
    page.fill("#m-currency", "cny")
    screenshot(page, f"metric-form-display-format-{language}")
    page.click("button[value=save]")
    page.wait_for_url("**/metrics/")
    saved = Metric.objects.get(key="arpu-cny")
    assert (saved.display_format, saved.currency) == ("currency", "CNY")
