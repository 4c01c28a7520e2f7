"""Numbers in words for decision reasons and health messages, and the same values as the
parameters of their coded form (``analysis.engine.contract.Coded``; rendered per language by
``analysis.web.reasons``)."""

from __future__ import annotations

from typing import Any

from analysis.engine.contract import Coded, VariantResult

from .outcomes import GuardrailLoss


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def pvalue(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def absolute(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def evidence(row: VariantResult) -> str:
    """'+4.2% (95% CI +1.0% to +7.4%, p = 0.0100)' or with the chance to win (Bayesian).
    A row decided on the absolute difference shows it: '-0.03028 absolute (interval -0.03931
    to -0.02126, p < 0.0001, Fisher's exact test; relative effect: zero_variance)'."""
    if row.chance_to_win is not None:
        tail = f"chance to win {row.chance_to_win:.1%}"
    else:
        tail = pvalue(row.p_value)
    if row.test == "fisher_exact":
        tail += ", Fisher's exact test"
    if row.significance_basis == "absolute":
        low, high = row.absolute_ci or (None, None)
        return (
            f"{absolute(row.absolute_effect)} absolute (interval {absolute(low)} to "
            f"{absolute(high)}, {tail}; relative effect: {row.status})"
        )
    low, high = row.ci or (None, None)
    return f"{pct(row.effect)} (interval {pct(low)} to {pct(high)}, {tail})"


def absolute_evidence(row: VariantResult) -> str:
    """The absolute difference and its interval: '-0.03028 (interval -0.03931 to -0.02126)'."""
    low, high = row.absolute_ci or (None, None)
    return f"{absolute(row.absolute_effect)} (interval {absolute(low)} to {absolute(high)})"


def evidence_params(row: VariantResult) -> dict[str, Any]:
    """What ``evidence`` says, as values: the relative effect and interval, the p-value or
    chance to win, the test, and (decided on the absolute difference) that difference."""
    low, high = row.ci or (None, None)
    abs_low, abs_high = row.absolute_ci or (None, None)
    return {
        "effect": row.effect,
        "low": low,
        "high": high,
        "p": row.p_value,
        "chance": row.chance_to_win,
        "test": row.test,
        "basis": row.significance_basis,
        "absolute": row.absolute_effect,
        "absolute_low": abs_low,
        "absolute_high": abs_high,
        "status": row.status,
    }


def count(n: int | float) -> str:
    return f"{int(n):,}"


def guardrail_loss_text(loss: GuardrailLoss) -> str:
    """Why a guardrail blocks its variant, in one sentence."""
    if loss.by_interval:
        return (
            f"Guardrail {loss.metric}'s absolute interval for {loss.variant} lies wholly on "
            f"the harmful side of zero: {absolute_evidence(loss.row)}."
        )
    return (
        f"Guardrail {loss.metric} is significantly worse for {loss.variant}: {evidence(loss.row)}."
    )


def guardrail_loss_coded(loss: GuardrailLoss) -> Coded:
    """``guardrail_loss_text`` as a coded message."""
    code = "guardrail_interval_harmful" if loss.by_interval else "guardrail_worse"
    return Coded(
        code,
        {"metric": loss.metric, "variant": loss.variant, "evidence": evidence_params(loss.row)},
    )
