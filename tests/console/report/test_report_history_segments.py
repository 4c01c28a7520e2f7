"""The report's history segment tabs (new or returning, RFM tier, RFM group, spend tier):
named and labelled in the reader's language, with their own SRM and p-values labelled as
adjusted when the plan corrects segment p-values."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.conf import settings

from analysis.services.snapshots import experiment_refresh
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def history_experiment(key: str = "hist-report", correction: str = "bh"):
    exp = experiment_with(
        [(metric("hist_paid"), "primary")],
        key=key,
        history_segments={
            "kinds": ["new_vs_returning", "rfm", "spend_tier"],
            "days": 30,
            "value_event": "purchase",
            "value_field": "revenue",
        },
        segment_correction=correction,
    )
    rng = random.Random(25)
    d = Data(exp)
    for i in range(300):
        unit = f"u{i}"
        treated = i % 2 == 1
        d.expose(unit, "treatment" if treated else "control", T0, attributes={"country": "CN"})
        for _ in range(i % 5):
            name = rng.choice(["purchase", "app_open"])
            d.event(
                unit,
                T0 - rng.uniform(0.1, 25) * DAY,
                name,
                properties={"revenue": rng.randrange(5, 90)} if name == "purchase" else {},
            )
        if (treated and i % 3 != 0) or (not treated and i % 4 == 0):
            d.event(unit, T0 + H, "purchase", properties={"revenue": 10})
    d.save()
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    return exp


def test_report__history_segments__tabs_labels_and_adjusted_p_values_in_english() -> None:
    exp = history_experiment()
    client = client_as("viewer")
    html = client.get(f"/experiments/{exp.key}/results/").content.decode()
    for tab in ("New or returning", "RFM tier", "RFM group", "Spend tier"):
        assert f">{tab}</a>" in html, tab
    assert "?segment=history:rfm_group" in html
    html = client.get(f"/experiments/{exp.key}/results/?segment=history:rfm_group").content.decode()
    section = html.split('id="segments"')[1]
    places = [section.index(f"RFM group = {v}") for v in ("Champions", "Regulars", "At risk")]
    assert places == sorted(places)  # best first
    assert section.index("RFM group = No history") > places[-1]  # units without history last
    assert "p-value, adjusted (BH)" in section
    assert "adjusted across each dimension" in section
    assert "Sample ratio (SRM)" in section
    rfm = client.get(f"/experiments/{exp.key}/results/?segment=history:rfm").content.decode()
    assert "RFM tier = R high · F high · M high" in rfm
    spend = client.get(f"/experiments/{exp.key}/results/?segment=history:spend_tier").content
    assert "Spend tier = No spend" in spend.decode()


def test_report__history_segments__chinese_words() -> None:
    exp = history_experiment()
    client = client_as("viewer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(f"/experiments/{exp.key}/results/?segment=history:rfm_group").content
    text = html.decode()
    for words in ("新用户或老用户", "RFM 分层", "RFM 分组", "消费分层", "核心用户", "流失风险"):
        assert words in text, words
    assert "Champions" not in text and "New or returning" not in text
    rfm = client.get(f"/experiments/{exp.key}/results/?segment=history:rfm").content.decode()
    assert "R 高 · F 高 · M 高" in rfm


def test_report__no_segment_correction__p_values_say_not_corrected() -> None:
    exp = history_experiment(key="hist-plain", correction="none")
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    section = html.split('id="segments"')[1]
    assert "p-value, not corrected" in section and "adjusted" not in section


def test_report_print__history_segments__every_dimension_in_words() -> None:
    from analysis.models import ResultSnapshot

    exp = history_experiment(key="hist-print")
    snapshot = ResultSnapshot.objects.filter(experiment=exp).latest("id")
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/{snapshot.id}/print/")
    text = html.content.decode()
    for heading in ("New or returning = New", "RFM group = Champions", "Spend tier = High spend"):
        assert heading in text, heading
    assert "p-value, adjusted (BH)" in text and "adjusted across each dimension" in text
