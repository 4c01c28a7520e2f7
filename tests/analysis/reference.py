"""Independent reference computations and synthetic snapshot inputs for analysis tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from scipy import stats as sps

from analysis.engine.stats import MeanStats, ProportionStats

AS_OF = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def mean_stats(y: np.ndarray, x: np.ndarray | None = None) -> MeanStats:
    y = np.asarray(y, dtype=float)
    pre = {}
    if x is not None:
        x = np.asarray(x, dtype=float)
        pre = {
            "pre_sum": float(x.sum()),
            "pre_sum_squares": float((x**2).sum()),
            "cross_sum": float((x * y).sum()),
        }
    return MeanStats(n=len(y), sum=float(y.sum()), sum_squares=float((y**2).sum()), **pre)


def welch_relative(
    control: np.ndarray, treatment: np.ndarray, *, proportion: bool = False, alpha: float = 0.05
) -> dict[str, Any]:
    """Relative effect (Δ/|μ_C|) with Fieller's CI (the engine's default relative interval)
    and its p-value, the Welch test of μ_T − μ_C, from raw arrays (unit variance p(1 - p) for
    proportions, the n - 1 sample variance otherwise).  ``delta_ci`` is gbstats' interval."""
    c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    nc, nt = len(c), len(t)
    mc, mt = c.mean(), t.mean()
    if proportion:
        vc, vt = mc * (1 - mc), mt * (1 - mt)
    else:
        vc, vt = c.var(ddof=1), t.var(ddof=1)
    effect = (mt - mc) / abs(mc)
    dof = (vt / nt + vc / nc) ** 2 / (vt**2 / (nt**2 * (nt - 1)) + vc**2 / (nc**2 * (nc - 1)))
    p = 2 * sps.t.sf(abs(mt - mc) / np.sqrt(vt / nt + vc / nc), dof)
    q = sps.t.ppf(1 - alpha / 2, dof)
    # Fieller: the ratios r with (mt − r·mc)² <= q²(vt/nt + r²·vc/nc), roots of a quadratic
    roots = np.sort(np.roots([mc**2 - q**2 * vc / nc, -2 * mt * mc, mt**2 - q**2 * vt / nt]).real)
    ci = tuple(roots - 1) if mc > 0 else tuple(np.sort(1 - roots))
    se = np.sqrt(vt / (nt * mc**2) + vc * mt**2 / (nc * mc**4))
    return {
        "effect": effect,
        "ci": ci,
        "p_value": p,
        "delta_ci": (effect - q * se, effect + q * se),
    }


def ratio_relative(
    c_m: np.ndarray, c_d: np.ndarray, t_m: np.ndarray, t_d: np.ndarray
) -> dict[str, Any]:
    """Relative effect of ΣM/ΣD and its p-value (the Welch test of the difference of ratios,
    delta-method unit variances, as Fieller's interval inverts it), from per-unit arrays."""

    def arm(m, d):
        n = len(m)
        mu_m, mu_d = m.mean(), d.mean()
        var = (
            m.var(ddof=1) / mu_d**2
            + d.var(ddof=1) * mu_m**2 / mu_d**4
            - 2 * np.cov(m, d, ddof=1)[0, 1] * mu_m / mu_d**3
        )
        return n, mu_m / mu_d, var

    nc, rc, vc = arm(c_m, c_d)
    nt, rt, vt = arm(t_m, t_d)
    effect = (rt - rc) / abs(rc)
    se = np.sqrt(vt / nt + vc / nc)
    dof = (vt / nt + vc / nc) ** 2 / (vt**2 / (nt**2 * (nt - 1)) + vc**2 / (nc**2 * (nc - 1)))
    return {"effect": effect, "p_value": 2 * sps.t.sf(abs(rt - rc) / se, dof), "ratio": rt}


def synthetic_inputs(
    metrics: list[dict[str, Any]],
    *,
    variants: tuple[str, ...] = ("control", "treatment"),
    weights: tuple[float, ...] | None = None,
    units: dict[str, int] | None = None,
    status: str = "running",
    excluded: dict[str, int] | None = None,
    last_exposure_at: dt.datetime | None = AS_OF,
    started_at: dt.datetime | None = AS_OF - dt.timedelta(days=7),
    segments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Snapshot inputs as the aggregation stores them, from engine input objects."""
    first = metrics[0]["stats"]
    units = units or {v: first[v].n for v in variants}
    return {
        "experiment": "synthetic",
        "phase": 1,
        "as_of": AS_OF.isoformat(),
        "status": status,
        "started_at": started_at.isoformat() if started_at else None,
        "variants": [
            {
                "key": v,
                "name": v.title(),
                "weight": weights[i] if weights else 1.0,
                "is_control": i == 0,
            }
            for i, v in enumerate(variants)
        ],
        "units": units,
        "excluded": excluded or {"forced": 0, "multiple_variants": 0, "total": 0},
        "events": 0,
        "freshness": {
            "last_exposure_at": last_exposure_at.isoformat() if last_exposure_at else None,
            "last_event_at": None,
        },
        "metrics": [
            {
                "metric": m["metric"],
                "name": m["metric"],
                "type": m.get("type", "conversion"),
                "role": m.get("role", "primary"),
                "higher_is_better": m.get("higher_is_better", True),
                "window_hours": 168,
                "retention_day": None,
                "winsorize_percentile": None,
                "cuped": False,
                "caps": {},
                "stats": {k: s.to_dict() for k, s in m["stats"].items()},
                "immature_units": dict.fromkeys(variants, 0),
            }
            for m in metrics
        ],
        "segments": segments or [],
    }


def plan(**overrides: Any) -> dict[str, Any]:
    base = {
        "alpha": 0.05,
        "method": "frequentist",
        "correction": "none",
        "cuped": False,
        "mde": None,
        "planned_sample_size": None,
        "planned_duration_days": None,
    }
    base.update(overrides)
    return base


def conversion(control: tuple[int, int], *others: tuple[int, int]) -> dict[str, ProportionStats]:
    """{"control": ..., "treatment" or "b", "c": ...} from (n, conversions) pairs."""
    names = ["treatment"] if len(others) == 1 else ["b", "c", "d"][: len(others)]
    out = {"control": ProportionStats(n=control[0], conversions=control[1])}
    for name, (n, k) in zip(names, others, strict=False):
        out[name] = ProportionStats(n=n, conversions=k)
    return out
