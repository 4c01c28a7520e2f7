"""The report in 简体中文: chrome, decision reasons, health messages, markers and chart labels
all in Chinese; numbers in the locale's format (issue 13)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from analysis.services.snapshots import experiment_refresh
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.words import in_english
from tests.console.helpers import client_as
from tests.console.report.catalogue import catalogue_with_pending

H = dt.timedelta(hours=1)


class _Text(HTMLParser):
    """Visible text and the texts a reader meets otherwise (titles, SVG titles, labels)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def reader_text(html: str, start: str = '<div id="tab-panel">') -> str:
    parser = _Text()
    parser.feed(html[html.index(start) :] if start in html else html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def exp(db: None):
    """A guardrail worse for the treatment and one metric with values out of range."""
    exp = experiment_with(
        [
            (metric("conv"), "primary"),
            (metric("spend", "mean", value_field="revenue"), "secondary"),
            (metric("refunds", event="refund", higher_is_better=False), "guardrail"),
        ],
        key="zhreport",
        mde=0.05,
    )
    d = Data(exp)
    for i in range(400):
        unit = f"u{i}"
        treated = i % 2 == 1
        attributes = {"platform": "ios" if i % 4 < 2 else "android"}
        d.expose(unit, "treatment" if treated else "control", T0, attributes=attributes)
        if (treated and i % 3 != 0) or (not treated and i % 5 == 0):
            d.event(unit, T0 + H, value=1e300 if i < 6 else float(i % 7))
        if treated and i % 4 == 1:
            d.event(unit, T0 + H, name="refund")
    d.save()
    return exp


# Data (keys and names of metrics, variants, segments), product and test names, symbols.
DATA = {"conv", "spend", "refunds", "Control", "Treatment", "control", "treatment", "ios"}
DATA |= {"android", "platform", "Experiment", "zhreport"}
KEPT = {
    "p",
    "e",
    "r",
    "QA",
    "Verdict",
    "CUPED",
    "SRM",
    "CSV",
    "JSON",
    "Fisher",
    "SDK",
    "ID",
    "Holm",
    "BH",
}


def english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]+", text) if w not in DATA | KEPT}


def test_report__zh_hans__no_english_left_in_chrome_reasons_health_and_charts(
    exp, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    results = in_english(snapshot.results)  # the words the API serves
    english = list(results["decision"]["reasons"]) + [h["message"] for h in results["health"]]
    assert any("Guardrail refunds" in r for r in english)  # the scenario has reasons to show
    assert any(h["check"] == "values_out_of_range" for h in results["health"])

    client = client_as("viewer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(f"/experiments/{exp.key}/results/").content.decode()
    text = reader_text(html)
    found = english_words(text)
    assert not found, [
        m.group(0)
        for w in found
        for m in re.finditer(rf".{{0,40}}(?<![A-Za-z]){w}(?![A-Za-z]).{{0,40}}", text)
    ]
    for sentence in english:
        assert sentence not in html
    for chinese in ("护栏指标 refunds 在 Treatment", "个单元的数值超出允许范围", "决策"):
        assert chinese in text, chinese

    detail = client.get(f"/experiments/{exp.key}/results/metrics/conv/").content.decode()
    detail_text = reader_text(detail, '<section id="metric-detail"')
    assert not english_words(detail_text), sorted(english_words(detail_text))
    printed = client.get(f"/experiments/{exp.key}/results/{snapshot.pk}/print/").content.decode()
    print_text = reader_text(printed, "<main>")
    assert not english_words(print_text), sorted(english_words(print_text))
