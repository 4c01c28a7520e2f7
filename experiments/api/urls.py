from django.urls import path

import core.converters  # noqa: F401  (registers <key:...>)

from . import data_sources, duplicate, overrides, views

ACTIONS = ("start", "pause", "resume", "stop", "conclude", "archive")

urlpatterns = [
    path("experiments", views.ExperimentListApi.as_view(), name="experiment-list"),
    path("experiments/<key:key>", views.ExperimentDetailApi.as_view(), name="experiment-detail"),
    path(
        "experiments/<key:key>/new-phase",
        views.ExperimentNewPhaseApi.as_view(),
        name="experiment-new-phase",
    ),
    path(
        "experiments/<key:key>/duplicate",
        duplicate.ExperimentDuplicateApi.as_view(),
        name="experiment-duplicate",
    ),
    path(
        "experiments/<key:key>/overrides",
        overrides.OverrideListApi.as_view(),
        name="experiment-overrides",
    ),
    path(
        "experiments/<key:key>/overrides/<path:unit_id>",
        overrides.OverrideDetailApi.as_view(),
        name="experiment-override-detail",
    ),
    path(
        "experiments/<key:key>/audit", views.ExperimentAuditApi.as_view(), name="experiment-audit"
    ),
    *[
        path(
            f"experiments/<key:key>/{action}",
            views.ExperimentActionApi.as_view(action_name=action),
            name=f"experiment-{action}",
        )
        for action in ACTIONS
    ],
    path("metrics", views.MetricListApi.as_view(), name="metric-list"),
    path("metrics/<key:key>", views.MetricDetailApi.as_view(), name="metric-detail"),
    path("layers", views.LayerListApi.as_view(), name="layer-list"),
    path("layers/<key:key>", views.LayerDetailApi.as_view(), name="layer-detail"),
    path("data-sources", data_sources.DataSourceListApi.as_view(), name="data-source-list"),
    path(
        "data-sources/<key:key>",
        data_sources.DataSourceDetailApi.as_view(),
        name="data-source-detail",
    ),
]
