"""The 简体中文 pages as a reader sees them: the main pages rendered in zh-hans, with the
catalogue as shipped (locale/zh_Hans), hold no English UI words in their visible text or in their
<option> labels.

The catalogue test (tests/test_translations.py) proves every marked string has a translation; it
cannot see a label that was never marked (a plain English tuple in the code, a model's English
choice shown as is). This one reads the rendered pages. What may stay in Latin letters is listed
in ``ALLOWED``: proper names, abbreviations, units and codes; keys, events and usernames of the
data on the page; text inside <code>, <pre> and <kbd>.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from analysis.models import ResultSnapshot
from core.api_keys import api_key_create
from experiments.models import AuditLogEntry, Experiment, Layer, Metric
from tests.console.helpers import client_as, results_json, store_snapshot
from tests.factories import LayerFactory, MetricFactory, started_experiment

pytestmark = pytest.mark.django_db

# Proper names, abbreviations, units and codes that a Chinese page shows as they are.
ALLOWED = {
    "Verdict", "English", "GrowthBook", "JSON", "API", "SDK", "CUPED", "Holm", "Benjamini",
    "Hochberg", "UTC", "ID", "AND", "OR", "SRM", "ARPU", "ARPPU", "AOV", "CSV", "PDF", "URL",
    "HTTP", "SQL", "Spark", "PostgreSQL", "SQLite", "Bearer", "QA", "CN", "SG", "US", "user_id",
    "account_id", "control", "treatment", "pp", "px", "ms", "vs", "CI",
    "MDE", "RFM", "p", "e", "g", "r", "n", "x", "k", "USD", "CNY", "RMB", "alpha", "payload",
    "Benjamini-Hochberg", "pricing-test", "country", "checkout",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z_'-]*[A-Za-z]|[A-Za-z]")


class _Reader(HTMLParser):
    """Visible text and <option> labels (and the placeholders, titles and aria-labels people
    see or hear), without <script>, <style>, <code>, <pre>, <kbd>."""

    SKIP = {"script", "style", "code", "pre", "kbd", "samp", "textarea"}
    WORDS_IN = {"placeholder", "title", "aria-label"}  # attributes people see or hear

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.depth:
            self.text.extend(v for k, v in attrs if k in self.WORDS_IN and v and v.strip())
        if tag in self.SKIP:
            self.depth += 1
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.text.append(data.strip())


def english_words(html: str, allowed: set[str]) -> list[str]:
    """The English words of a page's visible text that are not in ``allowed``."""
    reader = _Reader()
    reader.feed(html)
    found = []
    for chunk in reader.text:
        for word in WORD.findall(chunk):
            if word not in allowed and word.lower() not in allowed:
                found.append(f"{word} «{chunk[:80]}»")
    return found


def _data_words() -> set[str]:
    """Keys, events and usernames of the stored data: the pages show them as they are."""
    words: set[str] = set()
    for value in [
        *Experiment.objects.values_list("key", flat=True),
        *Metric.objects.values_list("key", flat=True),
        *Metric.objects.values_list("event", flat=True),
        *Layer.objects.values_list("key", flat=True),
        *get_user_model().objects.values_list("username", flat=True),
        *Experiment.objects.values_list("variants__key", flat=True),
        *AuditLogEntry.objects.values_list("actor_label", flat=True),
        *_snapshot_names(),
    ]:
        words.update(WORD.findall(value or ""))
    return {w.lower() for w in words}


def _snapshot_names() -> list[str]:
    """The metric and variant names a stored snapshot carries."""
    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            names.extend(v for k, v in node.items() if k == "name" and isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for results in ResultSnapshot.objects.values_list("results", flat=True):
        walk(results)
    return names


@pytest.fixture
def workspace() -> tuple[Client, Experiment]:
    admin = client_as("admin", "zhang")
    get_user_model().objects.filter(username="zhang").update(is_staff=True, is_superuser=True)
    MetricFactory(key="arpu", name="每用户收入", type="mean", event="purchase")
    MetricFactory(key="aov", name="客单价", type="ratio", event="purchase")
    MetricFactory(key="d7", name="七日留存", type="retention", event="app_open", retention_day=7)
    LayerFactory(key="pricing", name="定价层")
    experiment = started_experiment(key="price-test", name="专业版定价", kind="pricing")
    Metric.objects.filter(key="conversion").update(name="付费转化")
    store_snapshot(experiment, results_json())
    api_key_create(name="移动应用", role="app", created_by=get_user_model().objects.get())
    return admin, experiment


PAGES = [
    "/experiments/",
    "/experiments/price-test/",
    "/experiments/new/",
    "/experiments/price-test/results/",
    "/experiments/price-test/readout/",
    "/metrics/",
    "/metrics/new/",
    "/layers/",
    "/api-keys/",
    "/calculator/",
]


@pytest.mark.parametrize("url", PAGES)
def test_page__zh_hans__no_english_ui_words(workspace, url) -> None:
    client, _experiment = workspace
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    left = english_words(response.content.decode(), ALLOWED | _data_words())
    assert left == [], f"{url} shows English in zh-hans: {left}"


def test_english_words__finds_option_labels_and_skips_code() -> None:
    html = (
        "<p>实验 <code>price-test</code></p>"
        '<select><option value="$eq">is</option><option>等于</option></select>'
        "<script>var x = 'hidden';</script>"
    )
    assert english_words(html, set()) == ["is «is»"]
    assert english_words('<input placeholder="Search">', set()) == ["Search «Search»"]
