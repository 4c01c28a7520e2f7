"""The layers page: each layer's used and free share drawn as a bar, with its experiments."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from experiments.models import Experiment, Layer
from experiments.services.layers import HOLDING


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


@login_required
def layer_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "experiments/layer_list.html", {"nav": "layers", "rows": layer_rows()})
