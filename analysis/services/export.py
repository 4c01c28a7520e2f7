"""Flat views of a snapshot's results: CSV rows and the history summary (pure)."""

from __future__ import annotations

import csv
import io
from typing import Any

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


def results_csv(results: dict[str, Any]) -> str:
    """One row per metric and variant (relative effects; empty cells where not applicable)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for m in results.get("metrics", []):
        for row in m["variants"]:
            ci = row.get("ci") or [None, None]
            writer.writerow(
                {
                    "experiment": results["experiment"],
                    "phase": results["phase"],
                    "computed_at": results["computed_at"],
                    "metric": m["metric"],
                    "role": m["role"],
                    **row,
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                }
            )
    return out.getvalue()


HISTORY_FIELDS = ("variant", "units", "mean", "effect", "ci", "p_value", "chance_to_win")


def results_summary(results: dict[str, Any]) -> dict[str, Any]:
    """A small view of one snapshot for charts of the effect over time."""
    return {
        "computed_at": results["computed_at"],
        "as_of": results["as_of"],
        "phase": results["phase"],
        "units": results["units"]["total"],
        "srm": {"p_value": results["srm"]["p_value"], "mismatch": results["srm"]["mismatch"]},
        "decision": results["decision"]["recommendation"],
        "metrics": [
            {
                "metric": m["metric"],
                "role": m["role"],
                "variants": [
                    {
                        **{k: row.get(k) for k in HISTORY_FIELDS},
                        "significant": row.get("significant"),
                    }
                    for row in m["variants"]
                ],
            }
            for m in results.get("metrics", [])
        ],
    }
