"""The planted truth beside Verdict's estimate: one row per metric and treatment variant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.models import ResultSnapshot
from experiments.models import Experiment

from .scenarios import Scenario, true_effect


@dataclass(frozen=True)
class TruthRow:
    metric: str
    name: str
    variant: str
    truth: float | None  # relative effect planted (None: not modelled)
    estimate: float | None  # Verdict's relative effect
    ci: tuple[float, float] | None  # Verdict's 95% (plan alpha) interval
    significant: bool
    units: int

    @property
    def covered(self) -> bool | None:
        if self.truth is None or self.ci is None:
            return None
        return self.ci[0] <= self.truth <= self.ci[1]


def metric_definition(metric: Any) -> dict[str, Any]:
    """A metric model as ``true_effect`` reads it."""
    return {
        "type": metric.type,
        "event": metric.event,
        "value_field": metric.value_field or None,
        "numerator": metric.numerator,
        "denominator": metric.denominator,
        "retention_day": metric.retention_day,
        "winsorize_percentile": metric.winsorize_percentile,
    }


def truth_rows(
    *, experiment: Experiment, scenario: Scenario, snapshot: ResultSnapshot
) -> list[TruthRow]:
    """Each metric's planted effect per treatment variant beside the snapshot's estimate."""
    definitions = {
        link.metric.key: metric_definition(link.metric)
        for link in experiment.metric_links.select_related("metric")
    }
    rows = []
    for metric in (snapshot.results or {}).get("metrics", []):
        definition = definitions.get(metric["metric"])
        for v in metric["variants"]:
            if v.get("is_control"):
                continue
            truth = (
                true_effect(definition, scenario.control, scenario.behaviour(v["variant"]))
                if definition
                else None
            )
            ci = v.get("ci")
            rows.append(
                TruthRow(
                    metric=metric["metric"],
                    name=metric["name"],
                    variant=v["variant"],
                    truth=truth,
                    estimate=v.get("effect"),
                    ci=(ci[0], ci[1]) if ci else None,
                    significant=bool(v.get("significant")),
                    units=v.get("units", 0),
                )
            )
    return rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def truth_table(rows: list[TruthRow]) -> str:
    """A plain-text table of ``rows``."""
    header = ("metric", "variant", "units", "planted", "estimate", "95% interval", "covers truth")
    lines = [header]
    for r in rows:
        interval = "-" if r.ci is None else f"[{_pct(r.ci[0])}, {_pct(r.ci[1])}]"
        covered = {True: "yes", False: "NO", None: "-"}[r.covered]
        lines.append(
            (r.metric, r.variant, str(r.units), _pct(r.truth), _pct(r.estimate), interval, covered)
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in text)
