"""Pages for PMs and analysts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from experiments import selectors
from experiments.models import ExperimentStatus


@login_required
def experiment_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in ExperimentStatus.values:
        status = None
    experiments = selectors.experiment_list(status=status)
    context = {"experiments": experiments, "status": status, "statuses": ExperimentStatus.choices}
    template = "experiments/experiment_list.html"
    if request.htmx:
        template += "#experiment-table"
    return render(request, template, context)
