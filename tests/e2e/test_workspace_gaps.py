"""The workspace gaps of issue #12 in a real browser: service messages in Chinese on a zh-hans
page, the owner choice, the conclude dialog's winner field following the decision, and the API
keys page with creators and last use."""

from __future__ import annotations

from django.core.management import call_command

from core.actors import Actor
from core.models import ApiKey
from experiments.models import Experiment
from experiments.services.lifecycle import experiment_transition
from tests.e2e.conftest import login, make_user, screenshot
from tests.experiments.catalogue import catalogue_with_pending
from tests.factories import MetricFactory, started_experiment

UNKNOWN_OPERATOR_ZH = "未知运算符“$inn”（您是否想用“$in”？）"


def test_guided_form__zh_hans_unknown_operator__chinese_message_next_to_field(
    page, live_server, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    MetricFactory(key="paid-conversion", name="Paid conversion", event="subscribe")
    make_user("li", "editor")
    make_user("wang", "editor")
    login(page, live_server.url, "li", language="zh-hans")
    page.goto(live_server.url + "/experiments/new/")
    assert page.locator("#id_owner").input_value() == "li"  # the creator by default
    page.fill("#id_name", "Pro tier price")
    page.select_option("#id_owner", "wang")
    page.fill("#id_targeting", '{"country": {"$inn": ["CN", "SG"]}}')
    page.locator("#id_targeting").blur()
    error = page.locator("#err-targeting li")
    error.wait_for()
    assert error.inner_text() == f"country: {UNKNOWN_OPERATOR_ZH}"
    page.fill("input[name=variants-1-key]", "control")
    page.locator("input[name=variants-1-key]").blur()
    page.locator("#err-variants li").first.wait_for()
    assert "实验组标识“control”被使用了 2 次" in page.inner_text("#err-variants")
    page.click("#save-button")
    page.wait_for_load_state("networkidle")
    assert UNKNOWN_OPERATOR_ZH in page.inner_text("#step-targeting")
    assert not Experiment.objects.exists()
    page.locator("#step-targeting").scroll_into_view_if_needed()
    screenshot(page, "workspace-form-error-zh-hans")

    page.fill("#id_targeting", '{"country": {"$in": ["CN", "SG"]}}')
    page.fill("input[name=variants-1-key]", "cheaper")
    page.click("#save-button")
    page.wait_for_url(f"{live_server.url}/experiments/pro-tier-price/")
    assert Experiment.objects.get(key="pro-tier-price").owner.username == "wang"
    assert "wang" in page.inner_text("main")


def test_conclude_dialog__winner_field_follows_the_decision(page, live_server) -> None:
    exp = started_experiment(
        key="checkout-copy", mde=0.05, hypothesis="Shorter copy lifts checkout."
    )
    experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    make_user("pm", "editor")
    login(page, live_server.url, "pm")
    page.goto(f"{live_server.url}/experiments/{exp.key}/actions/conclude/")
    assert page.locator("select[name=winner]").count() == 0
    assert "Shorter copy lifts checkout." in page.inner_text(".plan-aside")
    page.check("input[name=decision][value=ship]")
    page.wait_for_selector("select[name=winner]")
    assert page.locator("select[name=winner] option[value=treatment]").count() == 1
    assert page.locator("select[name=winner] option[value=control]").count() == 0
    screenshot(page, "workspace-conclude-ship")
    page.check("input[name=decision][value=keep_control]")
    page.wait_for_selector("select[name=winner]", state="detached")
    page.check("input[name=decision][value=ship]")
    page.wait_for_selector("select[name=winner]")
    page.select_option("select[name=winner]", "treatment")
    page.fill("textarea[name=review]", "Expected +5%, got +8%.")
    page.click("button[name=confirm]")
    # Concluding lands on the experiment's readout (复盘).
    page.wait_for_url(f"{live_server.url}/experiments/{exp.key}/readout/")
    exp.refresh_from_db()
    assert (exp.status, exp.decision, exp.winner.key) == ("concluded", "ship", "treatment")


def test_api_keys_page__creator_and_last_used__english_and_chinese(
    page, live_server, settings, tmp_path, capsys
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    call_command("create_api_key", "nightly-export", role="viewer")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    make_user("ops", "admin")
    login(page, live_server.url, "ops")
    page.goto(live_server.url + "/api-keys/")
    page.fill("#key-name", "checkout service")
    page.select_option("#key-role", "app")
    page.click("#api-keys button.primary")
    page.wait_for_selector("#new-key")
    assert ApiKey.objects.get(name="checkout service").created_by.username == "ops"
    response = page.request.get(
        live_server.url + "/api/v1/experiments", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status == 200
    page.goto(live_server.url + "/api-keys/")
    rows = {row.locator("td").first.inner_text(): row for row in page.locator("tbody tr").all()}
    assert rows["checkout service"].locator(".key-creator").inner_text() == "ops"
    assert rows["checkout service"].locator(".key-last-used").inner_text() == "never"
    assert rows["nightly-export"].locator(".key-creator").inner_text() == "command line"
    assert rows["nightly-export"].locator(".key-last-used").inner_text() == "just now"
    screenshot(page, "workspace-api-keys")

    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    page.goto(live_server.url + "/api-keys/")
    head = page.inner_text("thead")
    assert "创建者" in head and "最近使用" in head
    assert "命令行" in page.inner_text("tbody") and "刚刚" in page.inner_text("tbody")
    screenshot(page, "workspace-api-keys-zh-hans")
