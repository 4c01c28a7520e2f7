"""The values of a comparison and of a guardrail loss as the parameters of coded messages
(``analysis.engine.contract.Coded``); ``analysis.words`` puts them into words."""

from __future__ import annotations

from typing import Any

from analysis.engine.codes import ReasonCode
from analysis.engine.contract import Coded, VariantResult

from .outcomes import GuardrailLoss


def evidence_params(row: VariantResult) -> dict[str, Any]:
    """A comparison's evidence as values: the relative effect and interval, the p-value or
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


def guardrail_loss_coded(loss: GuardrailLoss) -> Coded:
    """Why a guardrail blocks its variant: significantly worse, or its absolute interval
    wholly on the harmful side of zero."""
    code = ReasonCode.GUARDRAIL_INTERVAL_HARMFUL if loss.by_interval else ReasonCode.GUARDRAIL_WORSE
    return Coded(
        code.value,
        {"metric": loss.metric, "variant": loss.variant, "evidence": evidence_params(loss.row)},
    )
