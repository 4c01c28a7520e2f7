"""Numbers in words for decision reasons and health messages."""

from __future__ import annotations

from analysis.contract import VariantResult


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def pvalue(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def evidence(row: VariantResult) -> str:
    """'+4.2% (95% CI +1.0% to +7.4%, p = 0.0100)' or with the chance to win (Bayesian)."""
    low, high = row.ci or (None, None)
    if row.chance_to_win is not None:
        tail = f"chance to win {row.chance_to_win:.1%}"
    else:
        tail = pvalue(row.p_value)
    return f"{pct(row.effect)} (interval {pct(low)} to {pct(high)}, {tail})"


def count(n: int | float) -> str:
    return f"{int(n):,}"
