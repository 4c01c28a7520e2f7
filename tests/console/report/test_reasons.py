"""Decision reasons and health messages rendered from their codes (console.report.reasons): the
English page says exactly what the API stores, the 简体中文 page says it in Chinese, and
results stored before the codes show their stored English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from analysis.engine.contract import Results, results_from_stored
from analysis.engine.results import results_compute
from analysis.engine.stats import ProportionStats
from console.report.reasons import MESSAGES, REASONS, decision_reasons, health_message
from tests.analysis.reference import AS_OF, conversion, plan, synthetic_inputs
from tests.console.report.catalogue import catalogue_with_pending

CONTROL = (10_000, 1_000)
BETTER = (10_000, 1_300)
WORSE = (10_000, 800)
FLAT = (10_000, 1_010)


def _results(metrics, *, p=None, variants=("control", "treatment"), **kw) -> Results:
    inputs = synthetic_inputs(metrics, variants=variants, **kw)
    for m, given in zip(inputs["metrics"], metrics, strict=True):
        m.update(given.get("extra", {}))
    stored = results_compute(inputs=inputs, plan=p or plan(), computed_at="x", engine_version="t")
    return results_from_stored(stored)


def _primary(stats, **fields):
    return {"metric": "conv", "role": "primary", "stats": stats, **fields}


def _guard(stats):
    return {"metric": "refunds", "role": "guardrail", "higher_is_better": False, "stats": stats}


def _segment(value, control, treatment):
    return {
        "attribute": "country",
        "value": value,
        "metric": "conv",
        "units": {"control": control, "treatment": treatment},
        "stats": {
            "control": ProportionStats(n=control, conversions=0).to_dict(),
            "treatment": ProportionStats(n=treatment, conversions=0).to_dict(),
        },
    }


def _scenarios() -> dict[str, Results]:
    """Snapshots between them giving every reason and message code."""
    segments = [_segment("CN", 5_000, 4_000), _segment("SG", 5_000, 4_990)]
    return {
        "ship": _results(
            [_primary(conversion(CONTROL, BETTER)), _guard(conversion(CONTROL, CONTROL))]
        ),
        "ship_bayesian": _results(
            [_primary(conversion(CONTROL, BETTER))], p=plan(method="bayesian")
        ),
        "worse": _results([_primary(conversion(CONTROL, WORSE))]),
        "blocked": _results(
            [_primary(conversion(CONTROL, BETTER)), _guard(conversion(CONTROL, BETTER))]
        ),
        # Refunds from none to 4 of 40: Fisher's test does not call it, the interval does.
        "blocked_by_interval": _results(
            [_primary(conversion((40, 4), (40, 20))), _guard(conversion((40, 0), (40, 4)))]
        ),
        "planned_sample": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_sample_size=100_000)
        ),
        "reached": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_sample_size=20_000)
        ),
        "stopped": _results(
            [_primary(conversion(CONTROL, FLAT))], status="stopped", p=plan(mde=0.01)
        ),
        "needed": _results([_primary(conversion(CONTROL, FLAT))], p=plan(mde=0.02)),
        "no_plan": _results([_primary(conversion(CONTROL, FLAT))]),
        "duration": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_duration_days=30)
        ),
        "three_arms": _results(
            [_primary(conversion(CONTROL, FLAT, (10_000, 990)))], variants=("control", "b", "c")
        ),
        "srm_error": _results(
            [_primary(conversion(CONTROL, BETTER))],
            units={"control": 10_000, "treatment": 8_990},
            segments=segments,
        ),
        "srm_warning": _results(
            [_primary(conversion(CONTROL, BETTER))], units={"control": 10_000, "treatment": 9_620}
        ),
        "too_few": _results([_primary(conversion((1, 0), (1, 1)))]),
        "no_primary": _results([{**_primary(conversion(CONTROL, FLAT)), "role": "secondary"}]),
        "no_new_exposures": _results(
            [_primary(conversion(CONTROL, FLAT))], last_exposure_at=AS_OF - dt.timedelta(hours=30)
        ),
        "no_exposures": _results(
            [_primary(conversion(CONTROL, FLAT))],
            last_exposure_at=None,
            started_at=AS_OF - dt.timedelta(hours=50),
        ),
        "underpowered": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(mde=0.01, planned_sample_size=20_000)
        ),
        "multiple": _results(
            [_primary(conversion(CONTROL, FLAT))],
            excluded={"forced": 3, "multiple_variants": 200, "total": 202},
        ),
        "out_of_range": _results(
            [
                _primary(conversion(CONTROL, FLAT)),
                {
                    "metric": "revenue",
                    "role": "secondary",
                    "stats": conversion(CONTROL, FLAT),
                    "extra": {"status": "values_out_of_range", "out_of_range_units": 1_020},
                },
            ]
        ),
    }


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Results]:
    return _scenarios()


def test_scenarios__cover_every_reason_and_message_code(scenarios) -> None:
    reasons = {c.code for r in scenarios.values() for c in r.decision.reason_codes}
    messages = {h.coded.code for r in scenarios.values() for h in r.health if h.coded}
    assert reasons == set(REASONS)
    assert messages == set(MESSAGES)


def test_english__rendered_from_codes__exactly_the_stored_words(scenarios) -> None:
    # Status codes read as words on the page ("zero_control_mean" as "zero control mean").
    def words(text: str) -> str:
        return re.sub(r"\b(zero|too|relative)_(\w+)", lambda m: m.group(0).replace("_", " "), text)

    with translation.override("en"):
        for name, results in scenarios.items():
            assert decision_reasons(results.decision) == [
                words(r) for r in results.decision.reasons
            ], name
            for check in results.health:
                assert health_message(check) == words(check.message), name


# Words that stay as they are in Chinese: data (metric, variant and attribute keys), names
# of tests and products, and symbols.
DATA = {"conv", "refunds", "revenue", "treatment", "control", "country", "CN", "b", "c"}
KEPT = {"p", "e", "Fisher", "Verdict", "SDK", "CUPED", "SRM", "ID"}


def _english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]+", text) if w not in DATA | KEPT}


def test_zh_hans__every_reason_and_message__in_chinese(scenarios, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    with translation.override("zh-hans"):
        for name, results in scenarios.items():
            shown = decision_reasons(results.decision) + [health_message(h) for h in results.health]
            english = list(results.decision.reasons) + [h.message for h in results.health]
            for zh, en in zip(shown, english, strict=True):
                assert zh != en, (name, en)
                assert re.search(r"[\u4e00-\u9fff]", zh), (name, zh)
                assert not _english_words(zh), (name, zh, _english_words(zh))


def test_zh_hans__numbers_and_names__carried_into_the_chinese_words(
    scenarios, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    with translation.override("zh-hans"):
        (ship, _) = decision_reasons(scenarios["ship"].decision)
        assert ship.startswith("treatment 在 conv 上显著优于对照组：+30.0%（区间 ")
        srm = health_message(scenarios["srm_error"].health[0])
        assert (
            "实际 control 10,000 / treatment 8,990" in srm
        )  # grouped as config/formats/zh_Hans says
        assert "country = CN" in srm
        (out,) = [h for h in scenarios["out_of_range"].health if h.check == "values_out_of_range"]
        assert health_message(out).startswith("revenue：1,020 个单元的数值超出允许范围")


def test_results_before_codes__shown_in_their_stored_english(scenarios, settings, tmp_path) -> None:
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    stored = scenarios["srm_error"].to_dict()
    stored["schema_version"] = 3
    del stored["decision"]["reason_codes"]
    for check in stored["health"]:
        del check["code"], check["params"]
    old = results_from_stored(stored)
    with translation.override("zh-hans"):
        assert decision_reasons(old.decision) == list(old.decision.reasons)
        assert [health_message(h) for h in old.health] == [h.message for h in old.health]
