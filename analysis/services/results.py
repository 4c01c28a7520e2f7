"""From a snapshot's inputs and plan to its results: comparisons, correction, SRM, segments.

A pure function of JSON in, JSON out (no database), so a stored snapshot is recomputed exactly
from what it stores. The results shape is documented in docs/analysis.md.
"""

from __future__ import annotations

from typing import Any

from analysis.stats import adjust_p_values, compare, srm_check, stats_from_dict
from analysis.stats.moments import arm_mean
from analysis.stats.results import json_safe

from .decision import decision_summary
from .health import health_checks
from .power import primary_power

CORRECTED_ROLES = ("primary", "secondary")


def _control(inputs: dict[str, Any]) -> str:
    return next(v["key"] for v in inputs["variants"] if v["is_control"])


def _srm(inputs: dict[str, Any], units: dict[str, int]) -> dict[str, Any]:
    keys = [v["key"] for v in inputs["variants"]]
    weights = [v["weight"] for v in inputs["variants"]]
    observed = [int(units.get(k, 0)) for k in keys]
    r = srm_check(observed, weights)
    return {
        "p_value": r.p_value,
        "mismatch": r.mismatch,
        "statistic": r.statistic,
        "observed": dict(zip(keys, observed, strict=True)),
        "expected": dict(zip(keys, r.expected, strict=True)),
    }


def _outcome(comparison: Any, higher_is_better: bool, significant: bool) -> str:
    if not comparison.ok:
        return "not_enough_data"
    if not significant:
        return "not_significant"
    return "better" if (comparison.effect > 0) == higher_is_better else "worse"


def _compare_variants(
    inputs: dict[str, Any],
    stats: dict[str, Any],
    units: dict[str, int],
    plan: dict[str, Any],
    higher_is_better: bool,
) -> list[dict[str, Any]]:
    control = _control(inputs)
    c = stats_from_dict(stats[control])
    rows: list[dict[str, Any]] = []
    for v in inputs["variants"]:
        s = stats_from_dict(stats[v["key"]])
        row: dict[str, Any] = {
            "variant": v["key"],
            "name": v["name"],
            "is_control": v["is_control"],
            "units": int(units.get(v["key"], s.n)),
            "mean": arm_mean(s),
        }
        if not v["is_control"]:
            cmp = compare(
                c,
                s,
                relative=True,
                method=plan["method"],
                alpha=plan["alpha"],
                higher_is_better=higher_is_better,
            )
            absolute = compare(
                c,
                s,
                relative=False,
                method=plan["method"],
                alpha=plan["alpha"],
                higher_is_better=higher_is_better,
            )
            row.update(
                {
                    "effect": cmp.effect,
                    "ci": cmp.ci,
                    "stderr": cmp.stderr,
                    "p_value": cmp.p_value,
                    "p_value_unadjusted": cmp.p_value,
                    "chance_to_win": cmp.chance_to_win,
                    "risk": cmp.risk,
                    "significant": cmp.significant,
                    "outcome": _outcome(cmp, higher_is_better, cmp.significant),
                    "status": cmp.status,
                    "variance_reduction": cmp.variance_reduction,
                    "absolute_effect": absolute.effect,
                    "absolute_ci": absolute.ci,
                    "_ok": cmp.ok,
                    "_positive": bool(cmp.effect is not None and cmp.effect > 0),
                }
            )
        rows.append(row)
    return rows


def _correct(metrics: list[dict[str, Any]], plan: dict[str, Any], hib: dict[str, bool]) -> None:
    """Adjust p-values across primary and secondary metrics x non-control variants."""
    method = plan.get("correction") or "none"
    if method == "none" or plan["method"] == "bayesian":
        return
    family = [
        row
        for m in metrics
        if m["role"] in CORRECTED_ROLES
        for row in m["variants"]
        if not row["is_control"] and row["p_value"] is not None
    ]
    if not family:
        return
    adjusted = adjust_p_values([row["p_value"] for row in family], method)
    for row, p in zip(family, adjusted, strict=True):
        row["p_value"] = p
        row["significant"] = p < plan["alpha"]
        row["outcome"] = (
            ("better" if row["_positive"] == hib[row["_metric"]] else "worse")
            if row["significant"]
            else "not_significant"
        )


def _metric_results(inputs: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in inputs["metrics"]:
        units = {k: stats_from_dict(s).n for k, s in m["stats"].items()}
        if m["type"] not in ("retention",):
            units = {k: int(inputs["units"].get(k, n)) for k, n in units.items()}
        variants = _compare_variants(inputs, m["stats"], units, plan, m["higher_is_better"])
        for row in variants:
            row["_metric"] = m["metric"]
            if m["type"] == "retention":
                row["immature_units"] = int(m["immature_units"].get(row["variant"], 0))
        out.append(
            {
                "metric": m["metric"],
                "name": m["name"],
                "type": m["type"],
                "role": m["role"],
                "higher_is_better": m["higher_is_better"],
                "corrected": False,
                "cuped": m["cuped"],
                "winsorized_at": m["caps"].get("value", m["caps"].get("numerator")),
                "variants": variants,
            }
        )
    method = plan.get("correction") or "none"
    hib = {m["metric"]: m["higher_is_better"] for m in out}
    _correct(out, plan, hib)
    for m in out:
        m["corrected"] = (
            method != "none" and plan["method"] != "bayesian" and m["role"] in CORRECTED_ROLES
        )
    return out


def _segments(inputs: dict[str, Any], plan: dict[str, Any], hib: bool) -> list[dict[str, Any]]:
    out = []
    for seg in inputs.get("segments", []):
        variants = _compare_variants(inputs, seg["stats"], seg["units"], plan, hib)
        out.append(
            {
                "attribute": seg["attribute"],
                "value": seg["value"],
                "metric": seg["metric"],
                "units": sum(int(n) for n in seg["units"].values()),
                "srm": _srm(inputs, seg["units"]),
                "variants": variants,
            }
        )
    return out


def _strip(value: Any) -> Any:
    """Drop the private ``_`` keys used while computing."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def results_compute(
    *, inputs: dict[str, Any], plan: dict[str, Any], computed_at: str, engine_version: str
) -> dict[str, Any]:
    """The report for a snapshot, from its inputs and plan alone (see docs/analysis.md)."""
    metrics = _metric_results(inputs, plan)
    primary = next((m for m in metrics if m["role"] == "primary"), None)
    primary_hib = primary["higher_is_better"] if primary else True
    segments = _segments(inputs, plan, primary_hib)
    srm = _srm(inputs, inputs["units"])
    power = primary_power(inputs, plan, primary)
    health = health_checks(
        inputs=inputs, plan=plan, srm=srm, metrics=metrics, segments=segments, power=power
    )
    decision = decision_summary(inputs=inputs, plan=plan, srm=srm, metrics=metrics, power=power)
    results = {
        "experiment": inputs["experiment"],
        "phase": inputs["phase"],
        "status": inputs["status"],
        "computed_at": computed_at,
        "as_of": inputs["as_of"],
        "engine_version": engine_version,
        "plan": plan,
        "units": {
            "total": sum(int(n) for n in inputs["units"].values()),
            "by_variant": inputs["units"],
            "excluded": inputs["excluded"],
        },
        "events": inputs["events"],
        "freshness": inputs["freshness"],
        "srm": srm,
        "power": power,
        "metrics": metrics,
        "segments": segments,
        "decision": decision,
        "health": health,
    }
    return json_safe(_strip(results))
