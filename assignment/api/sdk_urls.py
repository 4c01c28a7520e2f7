"""Endpoints for local evaluation with GrowthBook SDKs (mounted at the site root)."""

from django.urls import path

from .sdk import ExposureBatchApi, ExposureRejectionsApi, sdk_features_alias, sdk_features_view

# What apps call (also served by the data-plane entry point, config.runtime_urls).
runtime_urlpatterns = [
    path("api/v1/sdk/<str:client_key>/features", sdk_features_view, name="sdk-features"),
    # The path GrowthBook's SDKs build from apiHost and clientKey.
    path("api/features/<str:client_key>", sdk_features_alias, name="sdk-features-growthbook"),
    path("api/v1/exposures", ExposureBatchApi.as_view(), name="exposures-ingest"),
]
urlpatterns = [
    *runtime_urlpatterns,
    path(
        "api/v1/exposures/rejections/<slug:experiment_key>",
        ExposureRejectionsApi.as_view(),
        name="exposures-rejections",
    ),
]
