"""Issue 24's form and small things, server side: the key a name gives (or what to type when it
gives none), the builder's and metric picker's words in 简体中文, refusals inside the page frame,
the favicon, the list's filter form, icons that need no CJK font, and the overlap warning."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from console.experiment_form.targeting_builder import OPERATORS
from console.labels import METRIC_TYPE_LABELS, OPERATOR_LABELS
from core.actors import Actor
from core.keys import key_from_name
from core.vocab import MetricType
from experiments.models import Experiment
from experiments.services.lifecycle import experiment_transition
from experiments.services.overlaps import overlap_warnings
from tests.console.helpers import client_as
from tests.experiments.catalogue import catalogue_with_pending
from tests.factories import MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"


@pytest.fixture
def chinese(settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    translation.trans_real._translations = {}
    yield
    translation.trans_real._translations = {}


def _new_form_post(**fields: str) -> dict[str, str]:
    post = {
        "name": "",
        "key": "",
        "kind": "other",
        "coverage": "100",
        "unit_attribute": "user_id",
        "layer_share": "100",
        "targeting": "{}",
        "alpha": "0.05",
        "method": "frequentist",
        "correction": "none",
        "variants-0-key": "control",
        "variants-0-name": "Control",
        "variants-0-weight": "1",
        "variants-0-payload": "{}",
        "variants-1-key": "cheaper",
        "variants-1-name": "Cheaper",
        "variants-1-weight": "1",
        "variants-1-payload": '{"monthly_price": 24}',
        "control": "0",
        "action": "save",
    }
    post.update(fields)
    return post


def _key_errors(html: str) -> str:
    found = re.search(r'<ul class="errorlist" id="err-key"[^>]*>(.*?)</ul>', html, re.S)
    assert found, "the key field has its error list"
    return found[1]


def test_key_from_name__latin_accented_and_chinese_names__one_rule() -> None:
    assert key_from_name("Pro tier price") == "pro-tier-price"
    assert key_from_name("Café prix été") == "cafe-prix-ete"
    assert key_from_name("测试 定价") == ""
    assert key_from_name("测试 pricing v2") == "pricing-v2"
    assert key_from_name("x" * 80) == "x" * 64


def test_new_experiment__chinese_name_without_key__error_next_to_key_says_what_to_type() -> None:
    editor = client_as("editor")
    response = editor.post("/experiments/new/", _new_form_post(name="测试 定价"))
    assert response.status_code == 200
    html = response.content.decode()
    errors = _key_errors(html)
    assert "This name gives no key" in errors
    assert "pricing-test" in errors
    assert "This field may not be blank" not in html
    assert 'id="id_key"' in html and 'id="key-help"' in html
    assert not Experiment.objects.exists()


def test_new_experiment__chinese_name_zh_hans__error_in_chinese(chinese) -> None:
    editor = client_as("editor")
    response = editor.post(
        "/experiments/new/", _new_form_post(name="测试 定价"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "这个名称无法生成标识" in _key_errors(response.content.decode())


def test_new_experiment__chinese_name_with_typed_key__saved() -> None:
    editor = client_as("editor")
    response = editor.post("/experiments/new/", _new_form_post(name="测试 定价", key="price-test"))
    assert response.status_code == 302
    assert Experiment.objects.get(key="price-test").name == "测试 定价"


def test_new_experiment__latin_name__key_derived_on_save() -> None:
    response = client_as("editor").post("/experiments/new/", _new_form_post(name="Pro tier"))
    assert response.status_code == 302
    assert Experiment.objects.filter(key="pro-tier").exists()


def test_labels__builder_operators_and_metric_types__each_has_words() -> None:
    assert set(OPERATOR_LABELS) == set(OPERATORS)
    assert {str(METRIC_TYPE_LABELS[m.value]) for m in MetricType} == {m.label for m in MetricType}


def test_new_experiment_form__zh_hans__operators_and_metric_types_in_chinese(chinese) -> None:
    MetricFactory(key="paid-conversion", name="Paid conversion", type="conversion")
    html = (
        client_as("editor")
        .get("/experiments/new/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    options = re.findall(r'<option value="\$\w+"[^>]*>([^<]*)</option>', html)
    assert "属于其中之一" in options and "版本 ≥" in options and "已设置" in options
    assert not {"is", "is not", "is one of", "matches pattern", "is set"} & set(options)
    assert "<td>转化</td>" in html


def test_api_keys__viewer__refused_inside_the_frame_without_a_traceback(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_as("viewer").get("/api-keys/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only admins manage API keys." in html
    assert 'class="topbar"' in html and "verdict.css" in html
    assert all(record.exc_info is None for record in caplog.records)


def test_api_keys__viewer_zh_hans__reason_in_chinese(chinese) -> None:
    response = client_as("viewer").get("/api-keys/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    assert "只有管理员" in response.content.decode()


def test_permission_denied__any_page__rendered_in_the_frame_with_its_reason() -> None:
    response = client_as("viewer").get("/experiments/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Viewers cannot create or change experiments." in html
    assert 'class="topbar"' in html


def test_favicon__ico_path_and_link__answer_with_our_svg() -> None:
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("/static/verdict/favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)
    html = client_as("viewer").get("/experiments/").content.decode()
    assert 'rel="icon"' in html and "verdict/favicon.svg" in html


def test_experiment_list__filtered_page__htmx_form_asks_the_path_not_the_current_query() -> None:
    html = client_as("viewer").get("/experiments/?q=pricing&status=paused").content.decode()
    form = re.search(r'<form class="filters"[^>]*>', html)
    assert form
    assert 'hx-get="/experiments/"' in form[0]
    assert 'action="/experiments/"' in form[0]


def test_templates__no_glyph_that_needs_a_cjk_font() -> None:
    """Fullwidth signs (＋) and enclosed letters (ⓘ) show as empty boxes without CJK fonts;
    pages use the inline SVG icons in templates/icons/ instead."""
    glyphs = re.compile(r"[\uFF00-\uFFEF\u2460-\u24FF]")
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group()}"
        for path in TEMPLATES.rglob("*.html")
        for match in glyphs.finditer(re.sub(r"{%.*?%}", "", path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_overlap_warning__kind_other__reads_as_a_sentence() -> None:
    started_experiment(key="first", kind="other", targeting={})
    second = ready_experiment(key="second", kind="other", variants=("a", "b"))
    warnings = overlap_warnings(experiment=second)
    assert warnings == [
        'Running experiment "first" has the same kind (other) and unit (user_id) as this one, '
        "and its targeting can match the same units outside a shared layer: a unit may be in "
        "both. Put both in one layer to keep them apart."
    ]
    done = experiment_transition(actor=Actor.system("t"), experiment=second, action="start")
    assert "a other" not in " ".join(done.warnings)
