"""The experiments list and the experiment page in a real browser: roles, Try it against the
API, Chinese labels, starting and pausing through the confirmations; screenshots for the README."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from core.actors import Actor
from core.api_keys import api_key_create
from experiments.models import Experiment, ExperimentMetric, Layer, Override
from experiments.services.lifecycle import experiment_transition
from tests.console.helpers import multiple_exposures, results_json, store_snapshot
from tests.e2e.conftest import login, make_user, screenshot
from tests.factories import MetricFactory, ready_experiment

pytestmark = pytest.mark.django_db(transaction=True)


def _catalogue(owner) -> Experiment:
    """A few experiments like a team's; returns the running pricing one."""
    layer = Layer.objects.create(key="pricing", name="Pricing page")
    pricing = ready_experiment(
        key="pricing-pro-tier",
        name="Pro tier at 29 CNY",
        kind="pricing",
        owner=owner,
        layer=layer,
        layer_share=0.6,
        hypothesis="Offering a Pro tier at 29 CNY/month lifts paid conversion by at least 5%.",
        targeting={"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}},
        coverage=0.8,
        mde=0.05,
        variants=("free", "pro"),
    )
    pricing.variants.filter(key="free").update(name="Free only", payload={"plan": "free"})
    pricing.variants.filter(key="pro").update(
        name="Pro at 29", payload={"plan": "pro", "monthly_price": 29}
    )
    ExperimentMetric.objects.create(
        experiment=pricing,
        metric=MetricFactory(key="refunds", name="Refund rate"),
        role="guardrail",
    )
    experiment_transition(actor=Actor.system("ann"), experiment=pricing, action="start")
    pricing.refresh_from_db()
    store_snapshot(pricing, results_json(variants=("free", "pro")))
    onboarding = ready_experiment(
        key="onboarding-checklist",
        name="Onboarding checklist",
        kind="onboarding",
        owner=owner,
        hypothesis="A checklist gets more new users to their first project.",
    )
    experiment_transition(actor=Actor.system("ann"), experiment=onboarding, action="start")
    store_snapshot(
        onboarding,
        results_json(
            effect=0.012,
            outcome="not_significant",
            health=[multiple_exposures(severity="error")],
        ),
    )
    ready_experiment(key="new-user-coupon", name="NEW10 coupon", kind="promotion", owner=owner)
    return pricing


def _api_assign(key: str, unit_id: str, attributes: dict) -> dict:
    _, raw = api_key_create(name="e2e-app", role="app")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"unit_id": unit_id, "attributes": attributes, "experiments": [key], "track": False}
    return client.post("/api/v1/assign", body, format="json").json()["assignments"][0]


def test_viewer__list_and_page__no_write_buttons(page, live_server) -> None:
    pricing = _catalogue(make_user("ann", "editor"))
    Override.objects.create(experiment=pricing, unit_id="qa-1", variant=pricing.variants.first())
    make_user("vic", "viewer")
    login(page, live_server.url, "vic")
    page.goto(live_server.url + "/experiments/")
    assert page.get_by_text("New experiment").count() == 0
    page.click("text=Pro tier at 29 CNY")
    page.wait_for_selector("#experiment-header")
    assert page.locator("[data-action]").count() == 0
    page.click("nav.tabs >> text=QA overrides")
    page.wait_for_selector("#overrides-section")
    assert page.get_by_role("button", name="Remove").count() == 0
    assert page.get_by_text("Add override").count() == 0


def test_try_it__same_variant_as_assign_api(page, live_server) -> None:
    pricing = _catalogue(make_user("ann", "editor"))
    login(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/experiments/{pricing.key}/")
    page.click("nav.tabs >> text=Try it")
    page.wait_for_selector("#id_unit_id")
    assert page.url.endswith(f"/experiments/{pricing.key}/try/")  # hx-push-url
    for unit_id, attributes in (
        ("user-1001", {"country": "CN", "app_version": "3.4.0"}),
        ("user-1002", {"country": "US", "app_version": "3.4.0"}),
    ):
        page.fill("#id_unit_id", unit_id)
        page.fill("#id_attributes", json.dumps(attributes))
        page.click("#tab-panel button:has-text('Assign')")
        page.wait_for_selector(f"#try-result:has-text('{unit_id}')")
        expected = _api_assign(pricing.key, unit_id, attributes)
        assert page.locator(".try-variant strong").inner_text() == (expected["variant"] or "—")
        assert page.locator(".try-reason").inner_text() == expected["reason"]
    screenshot(page, "experiment-try-it")


def test_start_and_pause__through_the_confirmations(page, live_server) -> None:
    make_user("pm", "editor")
    draft = ready_experiment(key="checkout-copy", name="Checkout copy", kind="other")
    login(page, live_server.url, "pm")
    page.goto(f"{live_server.url}/experiments/{draft.key}/")
    page.click("[data-action=start]")
    page.wait_for_selector("#confirm-panel")
    assert "What will happen" in page.locator("#confirm-panel").inner_text()
    page.click("#confirm-panel button[type=submit]")
    page.wait_for_selector(".messages .success")
    assert "running" in page.locator(".messages").inner_text()
    assert Experiment.objects.get(pk=draft.pk).status == "running"
    page.click("[data-action=pause]")
    page.wait_for_selector("#confirm-panel")
    assert "every unit gets the control" in page.locator("#confirm-panel").inner_text()
    screenshot(page, "experiment-confirm-pause")
    page.fill("#id_reason", "Checkout bug on Android")
    page.click("#confirm-panel button[type=submit]")
    page.wait_for_selector(".badge-paused")
    assert Experiment.objects.get(pk=draft.pk).status == "paused"


def test_pages__english_and_chinese__screenshots(page, live_server) -> None:
    pricing = _catalogue(make_user("ann", "editor"))
    login(page, live_server.url, "ann")
    page.goto(live_server.url + "/experiments/")
    page.wait_for_selector("#experiment-table")
    assert page.get_by_text("⚠ Health check failed").count() == 1
    screenshot(page, "experiment-list")
    page.select_option("#id_kind", "pricing")
    page.wait_for_selector("text=Filtered by")
    assert "kind=pricing" in page.url
    assert page.locator("#experiment-table tbody tr").count() == 1
    page.goto(f"{live_server.url}/experiments/{pricing.key}/")
    assert "country is CN or SG, and app version ≥ 3.2.0" in page.inner_text("main")
    screenshot(page, "experiment-page")

    page.select_option("#language-select", "zh-hans")
    page.click("nav.topbar form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    main = page.inner_text("main")
    assert "实验组" in main and "对照组" in main  # Variants, control
    screenshot(page, "experiment-page-zh-hans")
    page.goto(live_server.url + "/experiments/")
    assert "状态" in page.inner_text("main")  # Status
    screenshot(page, "experiment-list-zh-hans")
