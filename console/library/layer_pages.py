"""The layers page: each layer's used and free share drawn as a bar, with its experiments."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from experiments.models import Experiment, Layer
from experiments.services.layers import HOLDING, free_ranges


def layer_rows() -> list[dict[str, Any]]:
    """Every layer with the slices its running and paused experiments hold, and its free share."""
    layers = list(Layer.objects.order_by("key"))
    experiments = Experiment.objects.filter(layer__in=layers).select_related("owner")
    by_layer: dict[int, list[Experiment]] = {layer.pk: [] for layer in layers}
    for experiment in experiments.order_by("layer_start", "key"):
        by_layer[experiment.layer_id].append(experiment)
    rows = []
    for layer in layers:
        members = by_layer[layer.pk]
        holding = [e for e in members if e.status in HOLDING and e.layer_start is not None]
        used = sum(e.layer_end - e.layer_start for e in holding)
        rows.append(
            {
                "layer": layer,
                "experiments": members,
                "slices": [
                    {
                        "experiment": e,
                        "left": round(e.layer_start * 100, 4),
                        "width": round((e.layer_end - e.layer_start) * 100, 4),
                    }
                    for e in holding
                ],
                "used_pct": round(used * 100, 1),
                "free_pct": round((1 - used) * 100, 1),
            }
        )
    return rows


def layer_bars(*, experiment: Experiment | None) -> list[dict[str, Any]]:
    """Each layer's free share and the slices others use, for the bar under the guided form's
    layer choice; the experiment's own slice (when it holds one) is ``mine``."""
    bars = []
    for layer in Layer.objects.order_by("key"):
        gaps = free_ranges(layer, exclude=experiment)
        free = sum(end - start for start, end in gaps)
        used: list[tuple[float, float]] = []
        cursor = 0.0
        for start, end in gaps:
            if start > cursor:
                used.append((cursor, start))
            cursor = end
        if cursor < 1.0:
            used.append((cursor, 1.0))
        holds = experiment is not None and experiment.layer_id == layer.pk
        mine = None
        if holds and experiment.layer_start is not None and experiment.layer_end is not None:
            start, end = experiment.layer_start, experiment.layer_end
            mine = {"left": start * 100, "width": (end - start) * 100}
            free -= end - start
        bars.append(
            {
                "layer": layer,
                "mine": mine,
                "free": free,
                "free_pct": round(free * 100, 1),
                "segments": [{"left": s * 100, "width": (e - s) * 100} for s, e in used],
            }
        )
    return bars


@login_required
def layer_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "experiments/layer_list.html", {"nav": "layers", "rows": layer_rows()})
