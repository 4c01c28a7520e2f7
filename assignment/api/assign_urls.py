"""Runtime assignment endpoints."""

from django.urls import path

from .assign import AssignApi, AssignOneApi, runtime_view

urlpatterns = [
    path("assign", runtime_view(AssignApi), name="assign"),
    path("assign/<str:experiment_key>", runtime_view(AssignOneApi), name="assign-one"),
]
