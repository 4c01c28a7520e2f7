"""Result endpoints under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("experiments/<slug:key>/results", views.ResultsApi.as_view(), name="results"),
    path(
        "experiments/<slug:key>/results/history",
        views.ResultsHistoryApi.as_view(),
        name="results-history",
    ),
    path("experiments/<slug:key>/results.csv", views.ResultsCsvApi.as_view(), name="results-csv"),
    path(
        "experiments/<slug:key>/results/refresh",
        views.ResultsRefreshApi.as_view(),
        name="results-refresh",
    ),
]
