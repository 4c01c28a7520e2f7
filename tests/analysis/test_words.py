"""One renderer for every code (analysis.words): the registry names every code the engine can
write, each code has English and 简体中文 words, the English is the sentence Verdict has always
written for it, and results stored without codes keep their stored English."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from analysis.engine.breaker_rule import breaker_notice_coded, breaker_pause_coded
from analysis.engine.codes import BreakerCode, HealthCode, ReasonCode
from analysis.engine.contract import Results, results_from_stored
from analysis.words import REGISTRY, breaker_message, decision_reasons, health_message
from analysis.words.render import BREAKER_KIND, HEALTH, REASON
from tests.analysis.word_scenarios import BREAKER_CASES, BREAKER_SNAPSHOT, scenarios
from tests.console.report.catalogue import catalogue_with_pending

ROOT = Path(__file__).resolve().parents[2]
# The English each scenario's reasons, health messages and breaker messages had when the
# services wrote the sentences themselves (before the codes were rendered).
SENTENCES = json.loads((Path(__file__).parent / "data/english_sentences.json").read_text())


@pytest.fixture(scope="module")
def results() -> dict[str, Results]:
    return scenarios()


def _breaker_coded(name: str) -> dict[str, Any]:
    rows, alpha = BREAKER_CASES[name]
    return {
        "paused": breaker_pause_coded(
            rows, alpha=alpha, snapshot_id=BREAKER_SNAPSHOT["id"], as_of=BREAKER_SNAPSHOT["as_of"]
        ),
        "notice": breaker_notice_coded(rows[0], alpha=alpha),
    }


def _words(results: Results) -> list[str]:
    return decision_reasons(results.decision) + [health_message(h) for h in results.health]


def test_registry__every_code_the_engine_names__has_a_renderer() -> None:
    assert set(REGISTRY[REASON]) == set(ReasonCode)
    assert set(REGISTRY[HEALTH]) == set(HealthCode)
    assert set(REGISTRY[BREAKER_KIND]) == set(BreakerCode)


def test_engine__coded_messages__built_from_the_code_lists_only() -> None:
    """No code is written as a bare string in the engine, so the lists are every code."""
    engine = ROOT / "analysis/engine"
    bare = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in engine.rglob("*.py")
        for m in re.finditer(r"Coded\(\s*(code=)?[\"'][^\"']*[\"']", path.read_text())
    ]
    assert bare == []


def test_scenarios__give_every_reason_and_health_code(results) -> None:
    reasons = {c.code for r in results.values() for c in r.decision.reason_codes}
    messages = {h.coded.code for r in results.values() for h in r.health if h.coded}
    assert reasons == set(ReasonCode)
    assert messages == set(HealthCode)


def test_results__stored__codes_and_values_never_sentences(results) -> None:
    for r in results.values():
        stored = r.to_dict()
        assert "reasons" not in stored["decision"] and "stored_reasons" not in stored["decision"]
        assert all("message" not in h and "stored_message" not in h for h in stored["health"])


def test_english__every_code__the_sentence_verdict_always_wrote(results) -> None:
    with translation.override("en"):
        for name, r in results.items():
            old = SENTENCES["results"][name]
            assert decision_reasons(r.decision) == old["reasons"], name
            assert [health_message(h) for h in r.health] == old["health"], name
        for name in BREAKER_CASES:
            coded = _breaker_coded(name)
            assert breaker_message(coded["paused"]) == SENTENCES["breaker"][name]["paused"]
            assert breaker_message(coded["notice"]) == SENTENCES["breaker"][name]["notice"]


def test_english__fixed_examples_with_values(results) -> None:
    with translation.override("en"):
        assert decision_reasons(results["planned_sample"].decision)[1] == (
            "20,000 of the planned 100,000 units so far."
        )
        assert decision_reasons(results["too_few"].decision) == [
            "Not enough data yet to compare conv (too_few_units)."
        ]
        (srm,) = results["srm_error"].health
        assert health_message(srm).startswith(
            "Sample ratio mismatch (p = 2.3e-13): observed control 10,000 / treatment 8,990, "
            "expected control 9,495 / treatment 9,495. The imbalance is largest for "
            "country = CN (p = "
        )


# Words that stay as they are in Chinese: data (metric, variant, attribute keys and names),
# names of tests and products, and symbols.
DATA = {"conv", "refunds", "revenue", "treatment", "control", "country", "CN", "b", "c"}
DATA |= {"US", "SG", "JP"}
DATA |= {"Checkout", "errors", "T"}
KEPT = {"p", "e", "Fisher", "Verdict", "SDK", "CUPED", "SRM", "ID"}


def _english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]+", text) if w not in DATA | KEPT}


def _check_chinese(zh: str, en: str, what: str) -> None:
    assert zh != en, (what, en)
    assert re.search(r"[\u4e00-\u9fff]", zh), (what, zh)
    assert not _english_words(zh), (what, zh, _english_words(zh))


def test_zh_hans__every_code__in_chinese(results, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    coded = {name: _breaker_coded(name) for name in BREAKER_CASES}
    with translation.override("en"):
        english = {name: _words(r) for name, r in results.items()}
        breaker_en = {n: {k: breaker_message(c) for k, c in v.items()} for n, v in coded.items()}
    with translation.override("zh-hans"):
        for name, r in results.items():
            for zh, en in zip(_words(r), english[name], strict=True):
                _check_chinese(zh, en, name)
        for name, messages in coded.items():
            for kind, c in messages.items():
                _check_chinese(breaker_message(c), breaker_en[name][kind], f"{name} {kind}")


def test_zh_hans__numbers_and_names__carried_into_the_chinese_words(
    results, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    with translation.override("zh-hans"):
        (ship, _) = decision_reasons(results["ship"].decision)
        assert ship.startswith("treatment 在 conv 上显著优于对照组：+30.0%（区间 ")
        srm = health_message(results["srm_error"].health[0])
        assert "实际 control 10,000 / treatment 8,990" in srm  # as config/formats/zh_Hans says
        assert "country = CN" in srm
        (out,) = [h for h in results["out_of_range"].health if h.check == "values_out_of_range"]
        assert health_message(out).startswith("revenue：1,020 个单元的数值超出允许范围")
        assert "单元太少" in decision_reasons(results["too_few"].decision)[0]


def _stored_version(results: Results, version: int) -> dict[str, Any]:
    """``results`` as a snapshot of an older schema version stored them: version 4 with the
    English words beside the codes, version 3 with the words only."""
    with translation.override("en"):
        reasons = decision_reasons(results.decision)
        messages = [health_message(h) for h in results.health]
    stored = results.to_dict() | {"schema_version": version}
    stored["decision"]["reasons"] = reasons
    for check, message in zip(stored["health"], messages, strict=True):
        check["message"] = message
    if version < 4:
        del stored["decision"]["reason_codes"]
        for check in stored["health"]:
            del check["code"], check["params"]
    return stored


def test_results_before_codes__shown_in_their_stored_english(results, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    stored = _stored_version(results["srm_error"], 3)
    old = results_from_stored(stored)
    assert old.decision.stored_reasons and old.health[0].stored_message
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert decision_reasons(old.decision) == stored["decision"]["reasons"]
            assert [health_message(h) for h in old.health] == [
                h["message"] for h in stored["health"]
            ]


def test_results_of_version_4__rendered_from_their_codes(results, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    stored = _stored_version(results["blocked"], 4)
    v4 = results_from_stored(stored)
    assert v4 == results["blocked"]  # the English words are dropped, the codes kept
    with translation.override("zh-hans"):
        assert all(re.search(r"[\u4e00-\u9fff]", w) for w in _words(v4))
