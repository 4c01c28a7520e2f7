"""The libraries: metrics, layers and API keys."""

from django.urls import path
from django.views.generic import RedirectView

from . import api_key_pages, layer_pages, metric_pages

urlpatterns = [
    path("metrics/", metric_pages.metric_list_page, name="metric-list"),
    path("metrics/new/", metric_pages.metric_create_page, name="metric-create"),
    path("metrics/<slug:key>/edit/", metric_pages.metric_edit_page, name="metric-edit"),
    path("layers/", layer_pages.layer_list_page, name="layer-list"),
    path("layers/new/", layer_pages.layer_create_page, name="layer-create"),
    path("layers/<slug:key>/edit/", layer_pages.layer_edit_page, name="layer-edit"),
    path("api-keys/", api_key_pages.api_key_list_page, name="api-key-list"),
    path("api-keys/<int:pk>/revoke/", api_key_pages.api_key_revoke_page, name="api-key-revoke"),
    # The calculator's address is analysis-web:calculator (console/report/urls.py); the nav
    # links here.
    path(
        "tools/calculator/",
        RedirectView.as_view(pattern_name="analysis-web:calculator", query_string=True),
        name="calculator",
    ),
]
