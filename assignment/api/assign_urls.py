"""Runtime assignment endpoints."""

from django.urls import path

from .assign import AssignApi, AssignOneApi

urlpatterns = [
    path("assign", AssignApi.as_view(), name="assign"),
    path("assign/<str:experiment_key>", AssignOneApi.as_view(), name="assign-one"),
]
