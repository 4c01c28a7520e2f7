"""The significance report in a real browser: traffic through the assign and events APIs, the
interval bars, a refresh swapped in without a page load, the CSV against the JSON API, and the
zh-hans report with no English left in its chrome; screenshots for the README."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polib
import pytest
from rest_framework.test import APIClient

from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from assignment.models import Event
from core.actors import Actor
from core.api_keys import api_key_create
from experiments.models import Experiment, ExperimentMetric
from experiments.services.lifecycle import experiment_transition
from tests.analysis.words import in_english
from tests.e2e.conftest import login, make_user, screenshot
from tests.factories import MetricFactory, ready_experiment

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _client(role: str) -> APIClient:
    client = APIClient()
    _, raw = api_key_create(name=f"e2e-{role}", role=role)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _experiment_with_traffic() -> Experiment:
    """A running pricing test; 600 users assigned through the API, purchases sent as events."""
    exp = ready_experiment(key="pro-price", name="Pro tier at 29 CNY", kind="pricing", mde=0.05)
    ExperimentMetric.objects.create(
        experiment=exp,
        metric=MetricFactory(key="refunds", name="Refund rate", event="refund"),
        role="guardrail",
    )
    ExperimentMetric.objects.create(
        experiment=exp,
        metric=MetricFactory(
            key="tips", name="Tips per user", type="mean", event="tip", value_field="value"
        ),
        role="secondary",
    )
    experiment_transition(actor=Actor.system("ann"), experiment=exp, action="start")
    app = _client("app")
    events = []
    units = []
    for i in range(600):
        unit = f"user-{i}"
        attributes = {"platform": ("ios", "android", "web")[i % 3], "channel": "app-store"}
        answer = app.post(
            "/api/v1/assign", {"unit_id": unit, "attributes": attributes}, format="json"
        ).json()
        units.append((unit, answer["assignments"][0]["variant"]))
    moment = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    for i, (unit, variant) in enumerate(units):
        if i % (2 if variant == "treatment" else 5) == 0:
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "unit_id": unit,
                    "event": "purchase",
                    "timestamp": moment,
                    "value": 29.0,
                }
            )
        if i % 9 == 0:
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "unit_id": unit,
                    "event": "refund",
                    "timestamp": moment,
                }
            )
    for start in range(0, len(events), 100):
        response = app.post(
            "/api/v1/events",
            data=json.dumps({"events": events[start : start + 100]}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
    # Two tips of 1e300 stored before ingestion refused such values (written directly): the
    # tips metric counts them at the limit and says so (the purchases, and so the economics
    # section, are not touched).
    for unit, _ in units[:2]:
        at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        Event.objects.create(
            event_id=str(uuid.uuid4()),
            unit_id=unit,
            event="tip",
            timestamp=at,
            client_timestamp=at,
            received_at=at,
            value=1e300,
        )
    # A stale client reports 3 units in the variant they are not in: rejected and counted.
    stale = [
        {
            "unit_id": unit,
            "experiment": exp.key,
            "variant": "control" if v != "control" else "treatment",
        }
        for unit, v in units[:3]
    ]
    response = app.post("/api/v1/exposures", {"exposures": stale}, format="json")
    assert len(response.json()["rejected"]) == 3
    exp.refresh_from_db()
    time.sleep(1.5)
    return exp


def test_report__analyst__bars_refresh_csv(page, live_server, tmp_path) -> None:
    exp = _experiment_with_traffic()
    experiment_refresh(experiment=exp)
    make_user("ana", "editor")
    login(page, live_server.url, "ana")
    page.goto(f"{live_server.url}/experiments/{exp.key}/")
    page.click("nav.tabs >> text=Results")
    page.wait_for_selector("svg.interval-bar")
    assert page.locator("svg.interval-bar").count() >= 1
    assert page.locator("svg.interval-bar title").first.text_content()
    health = page.locator(".messages.health").inner_text()
    assert "Tips per user: 2 units had values beyond the accepted range" in health
    assert "Client exposures rejected in this phase: 3." in health
    assert "the unit does not hash to the reported variant: 3" in health
    assert page.locator("text=2 units had values beyond the accepted range; counted at the limit")
    screenshot(page, "report")

    page.click("#segments nav.tabs >> text=platform")
    page.wait_for_selector("#segments h3 >> text=platform = ios")
    assert "segment=platform" in page.url
    assert page.locator("#segments .segment-value").count() == 3

    before = page.locator("#snapshot-pick option").count()
    page.click("text=Refresh results")
    page.wait_for_selector("text=New results are ready.", timeout=20_000)
    page.wait_for_function(
        f"document.querySelectorAll('#snapshot-pick option').length > {before} "
        "|| document.querySelector('#report-body .as-of') !== null"
    )
    newest = ResultSnapshot.objects.filter(experiment=exp, status="ok").latest("computed_at")
    assert ResultSnapshot.objects.filter(experiment=exp, status="ok").count() == 2
    page.reload()
    assert (
        page.locator(f"#snapshot-pick option[value$='/{newest.pk}/']").get_attribute("selected")
        is not None
    )

    page.click("#table-primary ~ .table-wrap >> text=Conversion")
    page.wait_for_selector("#metric-detail svg.effect-over-time")
    assert page.locator("#metric-detail circle.point").count() == 2
    assert page.locator("#metric-detail svg.effect-over-time > title").text_content()
    screenshot(page, "report-metric")
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")

    with page.expect_download() as info:
        page.click("text=Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    body = _client("viewer").get(f"/api/v1/experiments/{exp.key}/results").json()
    expected = [
        (m["metric"], v["variant"], v["units"]) for m in body["metrics"] for v in m["variants"]
    ]
    assert [(r["metric"], r["variant"], int(r["units"])) for r in rows] == expected


def _catalogue_with_pending(tmp_path: Path) -> Path:
    """The zh_Hans catalogue plus any pending pair not merged yet, compiled."""
    catalogue = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {entry.msgid for entry in catalogue}
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


def test_report__zh_hans__chinese_labels(page, live_server, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _experiment_with_traffic()
    experiment_refresh(experiment=exp)
    make_user("li", "viewer")
    login(page, live_server.url, "li", language="zh-hans")
    page.goto(f"{live_server.url}/experiments/{exp.key}/results/")
    page.wait_for_selector("svg.interval-bar")
    chrome = page.locator("#tab-panel").inner_text()
    for label in ("决策", "显著变化", "相对效应", "护栏指标", "下载 CSV"):
        assert label in chrome
    for english in ("Decision", "Notable changes", "Relative effect", "Guardrails", "Download"):
        assert english not in chrome
    # Decision reasons and health messages: rendered from their codes, in Chinese.
    stored = ResultSnapshot.objects.filter(experiment=exp, status="ok").latest("computed_at")
    served = in_english(stored.results)  # the words the API serves
    english = served["decision"]["reasons"] + [h["message"] for h in served["health"]]
    assert english
    for sentence in english:
        assert sentence not in chrome
    health = page.locator(".messages.health").inner_text()
    assert "本阶段被拒绝的客户端曝光：3 条" in health and "个单元的数值超出允许范围" in health
    reasons = page.locator("section.decision li").all_inner_texts()
    assert reasons and all(re.search(r"[\u4e00-\u9fff]", r) for r in reasons), reasons
    assert page.locator("svg.interval-axis title").first.text_content() == "相对效应坐标轴"
    screenshot(page, "report-zh-hans")
