"""Service and targeting-validator messages in the reader's language: a zh-hans page shows them
in Chinese next to the field; the API answers in English unless the request asks for another
language with Accept-Language (as DRF's own messages do), and the audit log keeps English."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry, Experiment
from experiments.services.lifecycle import experiment_transition
from experiments.services.validation import check_ready_to_start
from experiments.targeting import validate_condition
from tests.console.experiment_form.test_experiment_form import post_data
from tests.experiments.catalogue import catalogue_with_pending
from tests.factories import MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
NEW = "/experiments/new/"
INN = {"country": {"$inn": ["CN"]}}
INN_EN = 'country: unknown operator "$inn" (did you mean "$in"?)'
INN_ZH = "country: 未知运算符“$inn”（您是否想用“$in”？）"


@pytest.fixture
def chinese(settings, tmp_path) -> None:
    """The zh_Hans catalogue with this work's pending pairs merged (as the coordinator will)."""
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]


def _editor(language: str) -> Client:
    user = get_user_model().objects.create_user("pm-zh", password="pw-1")
    user.groups.add(Group.objects.get_or_create(name="editor")[0])
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _field_block(html: str, field_id: str) -> str:
    """The markup of the field whose label is for ``field_id``, up to the next field."""
    start = html.index(f'for="{field_id}"')
    end = html.find('class="field', start)
    return html[start : end if end != -1 else len(html)]


def test_targeting_problem__english_text_kept__template_and_values_translatable(chinese) -> None:
    [problem] = validate_condition(INN)
    assert problem == INN_EN
    assert problem.path == "country" and problem.params == {"op": "$inn", "suggestion": "$in"}
    with translation.override("zh-hans"):
        assert problem.translated(translation.gettext) == INN_ZH


def test_form__zh_hans_unknown_operator__chinese_message_next_to_targeting(chinese) -> None:
    response = _editor("zh-hans").post(NEW, post_data(targeting='{"country": {"$inn": ["CN"]}}'))
    html = response.content.decode()
    assert response.status_code == 200
    block = _field_block(html, "id_targeting")
    assert "未知运算符“$inn”（您是否想用“$in”？）" in block
    assert "unknown operator" not in html
    assert not Experiment.objects.exists()


def test_form__zh_hans_duplicate_variant_key__chinese_message_on_variants(chinese) -> None:
    data = post_data(**{"variants-1-key": "control"})
    html = _editor("zh-hans").post(NEW, data).content.decode()
    assert "实验组标识“control”被使用了 2 次；标识必须唯一。" in html
    assert "is used 2 times" not in html
    assert not Experiment.objects.exists()


def test_form__english_page__same_messages_in_english(chinese) -> None:
    html = (
        _editor("en")
        .post(NEW, post_data(targeting='{"country": {"$inn": ["CN"]}}'))
        .content.decode()
    )
    assert "unknown operator &quot;$inn&quot; (did you mean &quot;$in&quot;?)" in html


def test_api__default_language__english_texts_unchanged(editor, chinese) -> None:
    body = {"key": "k1", "name": "K1", "targeting": INN}
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400
    assert response.json()["targeting"] == [INN_EN]


def test_api__accept_language_zh_hans__chinese_texts(editor, chinese) -> None:
    body = {"key": "k1", "name": "K1", "targeting": INN}
    response = editor.post(
        "/api/v1/experiments", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.json()["targeting"] == [INN_ZH]


def test_transition__zh_hans__status_message_in_chinese(editor, chinese) -> None:
    ready_experiment(key="done")
    editor.post("/api/v1/experiments/done/start", {}, format="json")
    response = editor.post(
        "/api/v1/experiments/done/resume", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 409, response.json()
    assert response.json()["status"] == [
        "无法对状态为 running 的实验执行 resume。当前允许：pause, stop, new-phase。"
    ]


def test_start__zh_hans__overlap_warning_in_chinese_audit_log_in_english(chinese) -> None:
    started_experiment(key="first-price", kind="pricing", targeting={})
    second = ready_experiment(key="second-price", kind="pricing", variants=("a", "b"))
    second.metric_links.update(metric=MetricFactory(key="other"))
    with translation.override("zh-hans"):
        done = experiment_transition(actor=Actor.system("t"), experiment=second, action="start")
    assert done.warnings == [
        "运行中的实验“first-price”与本实验的类型（pricing）和单元（user_id）相同，其定向条件可能"
        "匹配相同的单元，且两者不在同一层中：一个单元可能同时进入两个实验。请把两者放入同一层以将其分开。"
    ]
    entry = AuditLogEntry.objects.get(experiment=second, action="start")
    assert entry.after["warnings"][0].startswith(
        'Running experiment "first-price" has the same kind (pricing) and unit (user_id)'
    )
    assert "运行中" not in entry.message


def test_start_checks__zh_hans__every_rule_message_translated(chinese) -> None:
    with translation.override("zh-hans"):
        errors = check_ready_to_start(variants=[{"key": "a"}], metrics=[], targeting=INN)
        with pytest.raises(ValidationFailed) as failed:
            experiment_transition(
                actor=Actor.system("t"), experiment=ready_experiment(key="x"), action="conclude"
            )
    assert errors == {
        "variants": [
            "实验至少需要两个实验组；当前有 1 个。",
            "必须恰好有一个实验组是对照组；当前没有标记任何对照组。",
        ],
        "metrics": ["实验需要一个主要指标；当前未设置。"],
        "targeting": [INN_ZH],
    }
    assert failed.value.errors["status"] == [
        "无法对状态为 draft 的实验执行 conclude。当前允许：start, archive。"
    ]


def test_form__zh_hans_unknown_owner__chinese_message_next_to_owner(chinese) -> None:
    html = _editor("zh-hans").post(NEW, post_data(owner="nobody")).content.decode()
    assert "没有名为“nobody”的有效用户。" in _field_block(html, "id_owner")
    assert not Experiment.objects.exists()


def test_conclude_dialog__zh_hans_ship_without_winner__chinese_error_on_winner(chinese) -> None:
    exp = started_experiment(key="copy-test")
    experiment_transition(actor=Actor.system("t"), experiment=exp, action="stop")
    client = _editor("zh-hans")
    url = f"/experiments/{exp.key}/actions/conclude/"
    shown = client.get(url, {"decision": "ship"}).content.decode()
    assert "选择要上线的实验组" in shown and "复盘：预期与实际" in shown
    response = client.post(url, {"decision": "ship"})
    assert response.status_code == 400
    field = _field_block(response.content.decode(), "id_winner")
    assert "请指定要上线的实验组（本实验的一个实验组标识）。" in field
