"""Decision rules: ship, keep control, keep running, inconclusive, with reasons in words."""

from __future__ import annotations

from analysis.engine.results import results_compute
from tests.analysis.reference import conversion, plan, synthetic_inputs
from tests.analysis.words import in_english

BETTER = (10_000, 1_300)  # vs control 10,000 / 1,000: clearly better
WORSE = (10_000, 800)
FLAT = (10_000, 1_010)
CONTROL = (10_000, 1_000)


def _decide(primary, guard=None, *, p=None, **inputs_kw):
    metrics = [{"metric": "conv", "role": "primary", "stats": conversion(CONTROL, *primary)}]
    if guard is not None:
        metrics.append(
            {
                "metric": "refunds",
                "role": "guardrail",
                "higher_is_better": False,
                "stats": conversion(CONTROL, *guard),
            }
        )
    variants = ("control", "treatment") if len(primary) == 1 else ("control", "b", "c")
    inputs = synthetic_inputs(metrics, variants=variants, **inputs_kw)
    r = results_compute(inputs=inputs, plan=p or plan(), computed_at="x", engine_version="t")
    return in_english(r)["decision"]


def test_decision__primary_better_no_guardrail_worse__ship_the_variant() -> None:
    d = _decide([BETTER], guard=[CONTROL])
    assert d["recommendation"] == "ship"
    assert d["variant"] == "treatment"
    assert "significantly better" in d["reasons"][0] and "conv" in d["reasons"][0]


def test_decision__two_winners__ship_the_larger_improvement() -> None:
    d = _decide([(10_000, 1_200), BETTER])
    assert (d["recommendation"], d["variant"]) == ("ship", "c")


def test_decision__primary_better_but_guardrail_worse__keep_control() -> None:
    # Refunds up (lower is better): 1,000 -> 1,300 refunds.
    d = _decide([BETTER], guard=[BETTER])
    assert d["recommendation"] == "keep_control"
    assert any("Guardrail refunds is significantly worse" in r for r in d["reasons"])


def test_decision__no_difference_yet_but_guardrail_worse__keep_control() -> None:
    # A harmed guardrail stops the variant: waiting for the primary metric would keep harming.
    d = _decide([FLAT], guard=[BETTER], p=plan(planned_sample_size=100_000))
    assert d["recommendation"] == "keep_control"
    assert len(d["reasons"]) == 1
    assert "Guardrail refunds is significantly worse for treatment" in d["reasons"][0]


def test_decision__one_variant_harms_a_guardrail_the_other_open__keep_running_names_both() -> None:
    d = _decide([FLAT, FLAT], guard=[CONTROL, BETTER], p=plan(planned_sample_size=100_000))
    assert d["recommendation"] == "keep_running"
    text = " ".join(d["reasons"])
    assert "No significant difference on conv yet for b." in text
    assert "Guardrail refunds is significantly worse for c" in text


def test_decision__primary_worse__keep_control() -> None:
    d = _decide([WORSE])
    assert d["recommendation"] == "keep_control"
    assert "significantly worse" in d["reasons"][0]


def test_decision__not_significant_before_planned_sample__keep_running() -> None:
    d = _decide([FLAT], p=plan(planned_sample_size=100_000))
    assert d["recommendation"] == "keep_running"
    assert "20,000 of the planned 100,000 units" in " ".join(d["reasons"])


def test_decision__not_significant_after_planned_sample__inconclusive() -> None:
    d = _decide([FLAT], p=plan(planned_sample_size=20_000))
    assert d["recommendation"] == "inconclusive"
    assert "planned sample is reached" in d["reasons"][0]


def test_decision__not_significant_and_stopped__inconclusive() -> None:
    d = _decide([FLAT], status="stopped")
    assert d["recommendation"] == "inconclusive"


def test_decision__planned_mde_not_reached__keep_running_with_units_needed() -> None:
    d = _decide([FLAT], p=plan(mde=0.02))
    assert d["recommendation"] == "keep_running"
    assert "units per variant needed" in d["reasons"][1]


def test_decision__sample_ratio_mismatch__keep_running_and_investigate() -> None:
    d = _decide([BETTER], units={"control": 10_000, "treatment": 9_000})
    assert d["recommendation"] == "keep_running"
    assert "Sample ratio mismatch" in d["reasons"][0]
    assert "Investigate" in d["reasons"][0]


def test_decision__too_few_units__keep_running_not_enough_data() -> None:
    metrics = [{"metric": "conv", "stats": conversion((1, 0), (1, 1))}]
    r = results_compute(
        inputs=synthetic_inputs(metrics), plan=plan(), computed_at="x", engine_version="t"
    )
    assert r["decision"]["recommendation"] == "keep_running"
    assert "Not enough data" in in_english(r)["decision"]["reasons"][0]
