"""The layers page: each layer's used and free share drawn as a bar, with its experiments; and
the forms that create a layer and edit one (editors and admins), through the layer services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from console.errors import forbidden
from console.form_errors import Errors, flatten
from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.roles import can_write
from experiments.api.serializers import LayerInput
from experiments.models import Experiment, Layer
from experiments.services.layers import HOLDING, free_ranges, layer_create, layer_update

FORM_TEMPLATE = "experiments/layer_form.html"
FIELDS = ("key", "name", "description")


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


def _save(request: HttpRequest, layer: Layer | None, values: dict[str, str]) -> Layer | Errors:
    """The saved layer, or the errors keyed by field, as the API gives them."""
    serializer = LayerInput(data=values, context={"form_text": True})
    if not serializer.is_valid():
        return flatten(serializer.errors)
    data = serializer.validated_data
    actor = actor_from_request(request)
    try:
        if layer is None:
            return layer_create(actor=actor, **data)
        return layer_update(
            actor=actor, layer=layer, name=data["name"], description=data["description"]
        )
    except ValidationFailed as failed:
        return failed.errors


def _form(request: HttpRequest, layer: Layer | None) -> HttpResponse:
    """GET: the form; POST: save through the layer services and go back to the list, or show
    the form again with each error next to its field. Viewers get a 403 page."""
    if not can_write(request.user):
        return forbidden(request, _("Viewers cannot create or change layers."))
    values = {name: getattr(layer, name) if layer else "" for name in FIELDS}
    errors: Errors = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in FIELDS}
        if layer is not None:
            values["key"] = layer.key  # fixed once created
        result = _save(request, layer, values)
        if isinstance(result, Layer):
            messages.success(request, _("Layer “%(name)s” saved.") % {"name": result.name})
            return redirect(reverse("web:layer-list") + f"#layer-{result.key}")
        errors = result
    context = {
        "nav": "layers",
        "layer": layer,
        "values": values,
        "errors": errors,
        "used_by": list(layer.experiments.order_by("key")) if layer else [],
    }
    return render(request, FORM_TEMPLATE, context, status=400 if errors else 200)


@login_required
def layer_create_page(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@login_required
def layer_edit_page(request: HttpRequest, key: str) -> HttpResponse:
    layer = Layer.objects.filter(key=key).first()
    if layer is None:
        raise Http404(_("No layer with this key."))
    return _form(request, layer)
