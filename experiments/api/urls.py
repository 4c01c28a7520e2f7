from django.urls import path

from . import overrides, views

ACTIONS = ("start", "pause", "resume", "stop", "conclude", "archive")

urlpatterns = [
    path("experiments", views.ExperimentListApi.as_view(), name="experiment-list"),
    path("experiments/<slug:key>", views.ExperimentDetailApi.as_view(), name="experiment-detail"),
    path(
        "experiments/<slug:key>/new-phase",
        views.ExperimentNewPhaseApi.as_view(),
        name="experiment-new-phase",
    ),
    path(
        "experiments/<slug:key>/overrides",
        overrides.OverrideListApi.as_view(),
        name="experiment-overrides",
    ),
    path(
        "experiments/<slug:key>/overrides/<path:unit_id>",
        overrides.OverrideDetailApi.as_view(),
        name="experiment-override-detail",
    ),
    path(
        "experiments/<slug:key>/audit", views.ExperimentAuditApi.as_view(), name="experiment-audit"
    ),
    *[
        path(
            f"experiments/<slug:key>/{action}",
            views.ExperimentActionApi.as_view(action_name=action),
            name=f"experiment-{action}",
        )
        for action in ACTIONS
    ],
    path("metrics", views.MetricListApi.as_view(), name="metric-list"),
    path("metrics/<slug:key>", views.MetricDetailApi.as_view(), name="metric-detail"),
    path("layers", views.LayerListApi.as_view(), name="layer-list"),
    path("layers/<slug:key>", views.LayerDetailApi.as_view(), name="layer-detail"),
]
