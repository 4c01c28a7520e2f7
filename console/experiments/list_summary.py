"""The latest results a row of the experiments list shows: exposed units, each treatment's lift
on the primary metric with its outcome, and the failing health checks in the reader's language.

Read from the typed results contract (``analysis.selectors.snapshot_results``), like the
report; a snapshot whose results this version cannot read gives no summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.formats import number_format

from analysis import selectors
from analysis.engine.contract import Results, UnknownSchemaVersion
from analysis.words import health_message, labels_of
from analysis.words.formats import NumberFormat, metric_format, relative

PROBLEM_SEVERITIES = ("warning", "error")


@dataclass(frozen=True)
class Lift:
    """A treatment's relative effect on the primary metric in the latest snapshot."""

    variant: str
    effect: float | None
    outcome: str
    name: str = ""
    absolute: float | None = None
    fmt: NumberFormat = field(default_factory=NumberFormat)

    @property
    def percent(self) -> float | None:
        """The effect in percent (0.109 -> 10.9)."""
        return None if self.effect is None else self.effect * 100

    @property
    def text(self) -> str:
        """The relative effect ('+10.90%'), else the absolute one in the metric's format
        ('+0.50 pp' where the control's mean is 0), as the report's rows say it; '' for none."""
        if self.effect is not None:
            return relative(self.effect)
        if self.absolute is not None:
            return self.fmt.difference(self.absolute)
        return ""


@dataclass(frozen=True)
class SnapshotSummary:
    """What a list row shows of the latest good snapshot."""

    as_of: datetime | None
    exposed_units: int
    lifts: list[Lift] = field(default_factory=list)
    health_problems: list[str] = field(default_factory=list)

    @property
    def exposed_units_display(self) -> str:
        """The unit count with the reader's digit grouping (30,512)."""
        return number_format(self.exposed_units, force_grouping=True)


def snapshot_summary(
    results: Results,
    *,
    as_of: datetime | None = None,
    formats: Mapping[str, NumberFormat] | None = None,
) -> SnapshotSummary:
    """The summary of typed results; variant and metric names, and health messages in the
    active language."""
    primary = results.primary
    labels = labels_of(results, formats)
    fmt = None
    if primary is not None:
        fmt = (formats or {}).get(primary.metric) or metric_format(primary.type)
    return SnapshotSummary(
        as_of=as_of,
        exposed_units=results.units.total,
        lifts=[
            Lift(
                variant=v.variant,
                effect=v.effect,
                outcome=v.outcome or "",
                name=v.name,
                absolute=v.absolute_effect,
                fmt=fmt or NumberFormat(),
            )
            for v in (primary.treatments if primary is not None else ())
        ],
        health_problems=[
            health_message(check, labels)
            for check in results.health
            if check.severity in PROBLEM_SEVERITIES
        ],
    )


def latest_snapshot_summaries(
    *,
    experiment_ids: list[int],
    formats: Mapping[int, Mapping[str, NumberFormat]] | None = None,
) -> dict[int, SnapshotSummary]:
    """The latest good snapshot's summary of each experiment that has a readable one, in one
    query (``formats``: each experiment's metric formats)."""
    summaries = {}
    latest = selectors.snapshot_latest_by_experiment(experiment_ids=experiment_ids)
    for experiment_id, snapshot in latest.items():
        try:
            results = selectors.snapshot_results(snapshot=snapshot)
        except (KeyError, TypeError, ValueError, UnknownSchemaVersion):
            continue
        summaries[experiment_id] = snapshot_summary(
            results, as_of=snapshot.as_of, formats=(formats or {}).get(experiment_id)
        )
    return summaries
