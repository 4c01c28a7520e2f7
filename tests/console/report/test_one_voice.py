"""One decision object, one voice; numbers as people read them (issue 23).

Each section of the report (banner, notable changes, guardrail header, health warnings,
economics badges) reads the same per-row outcomes, and a metric's values are written in its
display format. The scenarios are built from data in each test.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import translation

from analysis.engine.contract import MetricResult, VariantResult
from analysis.engine.economics import BreakEven, Estimate
from analysis.services.snapshots import experiment_refresh
from analysis.words.formats import NumberFormat, metric_format, p_value
from console.report.economics import break_even_claim
from console.report.rows import Row, metric_markers
from core.vocab import DisplayFormat
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)
pytestmark = pytest.mark.django_db


def _zero_control_guardrail():
    """Conversion the same in both arms; refunds: none in the control, one in four units of
    the treatment (a control mean of 0, so no relative effect exists)."""
    conv = metric("paid_conversion", name="Paid conversion")
    refunds = metric("refund_rate", name="Refund rate", event="refund", higher_is_better=False)
    exp = experiment_with(
        [(conv, "primary"), (refunds, "guardrail")],
        key="new10-coupon",
        variants=("none", "new10"),
    )
    d = Data(exp)
    for i in range(400):
        variant = ("none", "new10")[i % 2]
        d.expose(f"u{i}", variant, T0)
        if i % 10 < 2:
            d.event(f"u{i}", T0 + H)
        if variant == "new10" and i % 4 == 1:
            d.event(f"u{i}", T0 + H, name="refund")
    d.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    return exp


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_report__zero_control_guardrail_harmed__every_section_says_worse(language) -> None:
    exp = _zero_control_guardrail()
    client = client_as("viewer")
    client.cookies["django_language"] = language
    page = client.get(f"/experiments/{exp.key}/results/").content.decode()
    banner = _text(page.split('id="decision-title"')[1].split("</section>")[0])
    row = page.split('data-metric="refund_rate"')[1].split("</tr>")[0]
    notable = _text(page.split('id="notable-title"')[1].split("</section>")[0])
    guardrails = page.split('id="table-guardrail"')[1].split("</h2>")[0]
    with translation.override(language):
        worse = "↓ " + translation.gettext("worse")
        header = translation.gettext("A guardrail is worse")
        pp = translation.gettext("%(n)s pp") % {"n": "50.00"}
        not_enough = translation.gettext("not enough data")
    # The banner names the guardrail by its name, with what to do.
    assert "Refund rate" in banner and "refund_rate" not in banner
    assert "New10" in banner and "new10 " not in banner
    # The row: the absolute effect (+50 percentage points) with numeric bounds and an
    # outcome, and why there is no relative figure; never "not enough data".
    assert f"+{pp}" in row
    assert re.search(r'class="interval-numbers">\[\+[\d.]+', row)
    assert worse in row
    assert not_enough not in row
    assert 'class="muted no-relative"' in row
    # Notable changes and the guardrail header agree.
    assert "Refund rate" in notable and f"+{pp}" in notable
    assert header in guardrails
    # Rates in %: the control and treatment paid conversion, not raw fractions.
    assert "20.00%" in page


def test_report__zero_control_guardrail__health_warning_in_names_and_percentage_points(
    viewer,
) -> None:
    exp = _zero_control_guardrail()
    client = client_as("viewer")
    page = client.get(f"/experiments/{exp.key}/results/").content.decode()
    health = _text(page.split('class="messages health"')[1].split("</ul>")[0])
    assert "Guardrail Refund rate is significantly worse for New10" in health
    assert "+50.00 pp absolute" in health
    assert "e-05" not in health and "zero_control_mean" not in health
    # The API keeps its keys and plain numbers.
    api = viewer.get(f"/api/v1/experiments/{exp.key}/results").json()
    assert any("Guardrail refund_rate" in h["message"] for h in api["health"])


def test_report__units_table__variant_names_not_keys() -> None:
    exp = _zero_control_guardrail()
    page = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    units = page.split('class="units-split"')[1].split("</table>")[0]
    assert '<th scope="row">New10</th>' in units
    assert '<th scope="row">new10</th>' not in units


def _break_even(verdict: str) -> BreakEven:
    return BreakEven(
        variant="pro39",
        name="Pro 39",
        control_price=29,
        variant_price=39,
        price_source="payload",
        price_path="plans.pro",
        ratio=39 / 29,
        break_even=29 / 39 - 1,
        observed=Estimate(-0.10, -0.2, -0.01),
        verdict=verdict,
    )


def test_break_even_claim__revenue_difference_inconclusive__no_earns_more() -> None:
    inconclusive = Estimate(1835, -75, 3745)
    assert break_even_claim(_break_even("above"), inconclusive) == "revenue_unclear"
    assert break_even_claim(_break_even("below"), inconclusive) == "revenue_unclear"


def test_break_even_claim__revenue_interval_agrees__claim_kept() -> None:
    assert break_even_claim(_break_even("above"), Estimate(1835, 75, 3745)) == "above"
    assert break_even_claim(_break_even("below"), Estimate(-1835, -3745, -75)) == "below"
    assert break_even_claim(_break_even("above"), None) == "above"
    assert break_even_claim(_break_even("unclear"), Estimate(1835, 75, 3745)) == "unclear"


def test_number_format__each_display_format__as_people_read_it() -> None:
    with translation.override("en"):
        rate = NumberFormat(DisplayFormat.RATE)
        assert rate.value(0.0709) == "7.09%"
        assert rate.difference(-0.0012) == "−0.12 pp"
        assert NumberFormat(DisplayFormat.CURRENCY, "CNY").value(1234.5) == "¥1,234.50"
        assert NumberFormat(DisplayFormat.CURRENCY, "USD").difference(-2) == "−$2.00"
        assert NumberFormat(DisplayFormat.COUNT).value(12345) == "12,345"
        assert NumberFormat(DisplayFormat.DURATION).value(12.34) == "12.3 s"
        assert NumberFormat().value(1234.5) == "1,234.5000"
    with translation.override("zh-hans"):
        assert NumberFormat(DisplayFormat.RATE).difference(0.0012) == "+0.12 个百分点"


def test_metric_format__no_format_set__default_by_type() -> None:
    assert metric_format("conversion").kind == DisplayFormat.RATE
    assert metric_format("retention").kind == DisplayFormat.RATE
    assert metric_format("mean").kind == DisplayFormat.NUMBER
    assert metric_format("ratio").kind == DisplayFormat.NUMBER
    assert metric_format("mean", "currency", "CNY").currency == "CNY"


def test_p_value__small_large_and_one__never_four_zeros() -> None:
    with translation.override("en"):
        assert p_value(1.0) == "1"
        assert p_value(0.0004) == "< 0.001"
        assert p_value(0.12345) == "0.123"
        assert p_value(None) == "—"


def _metric(variants, cuped=False) -> MetricResult:
    return MetricResult(
        metric="arpu", name="ARPU", type="mean", role="secondary", cuped=cuped, variants=variants
    )


def test_metric_markers__cuped_reduced_nothing__no_note() -> None:
    control = VariantResult(variant="a", name="A", is_control=True, units=100, mean=1.0)
    nil = VariantResult(
        variant="b", name="B", is_control=False, units=100, mean=1.1, variance_reduction=0.0
    )
    some = VariantResult(
        variant="b", name="B", is_control=False, units=100, mean=1.1, variance_reduction=0.31
    )
    with translation.override("en"):
        assert not any("CUPED" in m for m in metric_markers(_metric((control, nil), True)))
        assert "CUPED applied (variance reduced by 31%)" in metric_markers(
            _metric((control, some), True)
        )


def test_row__not_enough_data__no_p_value() -> None:
    control = VariantResult(variant="a", name="A", is_control=True, units=3, mean=0.0)
    v = VariantResult(
        variant="b",
        name="B",
        is_control=False,
        units=3,
        mean=0.0,
        p_value=1.0,
        outcome="not_enough_data",
        status="too_few_units",
    )
    row = Row(
        metric=_metric((control, v)),
        control=control,
        variant=v,
        bar=None,
        p_label="",
        title="",
        markers=[],
    )
    assert row.p_text == "—"
    assert not row.enough_data


def test_metric_api__display_format__default_by_type_and_currency_needed(editor) -> None:
    made = editor.post(
        "/api/v1/metrics",
        {"key": "paid", "name": "Paid", "type": "conversion", "event": "purchase"},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["display_format"] == "rate"
    bad = editor.post(
        "/api/v1/metrics",
        {
            "key": "arpu",
            "name": "ARPU",
            "type": "mean",
            "event": "purchase",
            "value_field": "revenue",
            "display_format": "currency",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "currency" in str(bad.json())
    good = editor.post(
        "/api/v1/metrics",
        {
            "key": "arpu",
            "name": "ARPU",
            "type": "mean",
            "event": "purchase",
            "value_field": "revenue",
            "display_format": "currency",
            "currency": "cny",
        },
        format="json",
    )
    assert good.status_code == 201, good.content
    assert good.json()["currency"] == "CNY"
