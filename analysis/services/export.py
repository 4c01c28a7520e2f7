"""Flat views of a snapshot's results: CSV rows and the history summary (pure)."""

from __future__ import annotations

import csv
import io
from typing import Any

from analysis.engine.contract import Results

CSV_COLUMNS = [
    "experiment",
    "phase",
    "computed_at",
    "metric",
    "role",
    "variant",
    "is_control",
    "units",
    "mean",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "p_value_unadjusted",
    "chance_to_win",
    "significant",
    "outcome",
    "status",
]


def results_csv(results: Results) -> str:
    """One row per metric and variant (relative effects; empty cells where not applicable)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for m in results.metrics:
        for row in m.variants:
            low, high = row.ci or (None, None)
            writer.writerow(
                {
                    "experiment": results.experiment,
                    "phase": results.phase,
                    "computed_at": results.computed_at,
                    "metric": m.metric,
                    "role": m.role,
                    **row.to_dict(),
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return out.getvalue()


def results_summary(results: Results) -> dict[str, Any]:
    """A small view of one snapshot for charts of the effect over time."""
    return {
        "computed_at": results.computed_at,
        "as_of": results.as_of,
        "phase": results.phase,
        "units": results.units.total,
        "srm": {"p_value": results.srm.p_value, "mismatch": results.srm.mismatch},
        "decision": results.decision.recommendation,
        "metrics": [
            {
                "metric": m.metric,
                "role": m.role,
                "variants": [
                    {
                        "variant": row.variant,
                        "units": row.units,
                        "mean": row.mean,
                        "effect": row.effect,
                        "ci": None if row.ci is None else list(row.ci),
                        "p_value": row.p_value,
                        "chance_to_win": row.chance_to_win,
                        "significant": None if row.is_control else row.significant,
                    }
                    for row in m.variants
                ],
            }
            for m in results.metrics
        ],
    }
