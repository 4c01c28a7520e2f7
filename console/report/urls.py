"""The Results report (namespace ``analysis-web``, see ``console.urls``)."""

from django.urls import re_path

from console.experiments.urls import KEY

from . import views

urlpatterns = [
    re_path(rf"^experiments/{KEY}/results/$", views.report_page, name="report"),
    re_path(
        rf"^experiments/{KEY}/results/(?P<snapshot_id>[0-9]+)/$",
        views.report_page,
        name="report-snapshot",
    ),
    re_path(
        rf"^experiments/{KEY}/results/(?P<snapshot_id>[0-9]+)/print/$",
        views.report_print_page,
        name="report-print",
    ),
    re_path(
        rf"^experiments/{KEY}/results/metrics/(?P<metric>[-\w.]+)/$",
        views.report_metric_page,
        name="report-metric",
    ),
    re_path(rf"^experiments/{KEY}/results/refresh/$", views.report_refresh, name="report-refresh"),
    re_path(rf"^experiments/{KEY}/results/status/$", views.report_status, name="report-status"),
]
