"""The planted truth of a simulated experiment, stored beside its results (demo data).

``planted_effects_record`` works out, from the scenario, the relative effect each of the
experiment's metrics should measure for each treatment variant (``scenarios.true_effect``) and
stores it (``analysis.models.PlantedEffect``); ``planted_effects_of`` reads them back in one
query for the report, which shows them beside Verdict's estimate.
"""

from __future__ import annotations

from django.db import transaction

from analysis.models import PlantedEffect
from experiments.models import Experiment

from .report import metric_definition
from .scenarios import Scenario, true_effect


@transaction.atomic
def planted_effects_record(*, experiment: Experiment, scenario: Scenario) -> int:
    """Store the effects ``scenario`` plants on ``experiment``'s metrics (replacing earlier
    ones); returns how many. Metrics the simulator does not model get none."""
    rows = []
    treatments = experiment.variants.filter(is_control=False).values_list("key", flat=True)
    for link in experiment.metric_links.select_related("metric"):
        definition = metric_definition(link.metric)
        for variant in treatments:
            effect = true_effect(definition, scenario.control, scenario.behaviour(variant))
            if effect is not None:
                rows.append(
                    PlantedEffect(
                        experiment=experiment,
                        metric=link.metric.key,
                        variant=variant,
                        effect=round(effect, 6),  # 0.0999999... shows as 10.00%
                        scenario=scenario.description[:500],
                    )
                )
    PlantedEffect.objects.filter(experiment=experiment).delete()
    PlantedEffect.objects.bulk_create(rows)
    return len(rows)


def planted_effects_of(experiment_key: str) -> dict[tuple[str, str], float]:
    """(metric key, variant key) -> planted relative effect, for a simulated experiment (empty
    for real ones). One query."""
    return {
        (metric, variant): effect
        for metric, variant, effect in PlantedEffect.objects.filter(
            experiment__key=experiment_key
        ).values_list("metric", "variant", "effect")
    }
