"""Result endpoints under /api/v1/."""

from django.urls import path

import core.converters  # noqa: F401  (registers <key:...>)

from . import views

urlpatterns = [
    path("experiments/<key:key>/results", views.ResultsApi.as_view(), name="results"),
    path(
        "experiments/<key:key>/results/history",
        views.ResultsHistoryApi.as_view(),
        name="results-history",
    ),
    path("experiments/<key:key>/results.csv", views.ResultsCsvApi.as_view(), name="results-csv"),
    path(
        "experiments/<key:key>/results/refresh",
        views.ResultsRefreshApi.as_view(),
        name="results-refresh",
    ),
]
