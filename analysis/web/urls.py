"""Web pages of the analysis app, in the ``analysis-web`` namespace."""

from django.urls import path, re_path

from . import calculator, report

app_name = "analysis-web"

KEY = r"(?P<key>(?!new/)[-\w]+)"

urlpatterns = [
    path("calculator/", calculator.calculator_page, name="calculator"),
    re_path(rf"^experiments/{KEY}/results/$", report.report_page, name="report"),
    re_path(
        rf"^experiments/{KEY}/results/(?P<snapshot_id>[0-9]+)/$",
        report.report_page,
        name="report-snapshot",
    ),
    re_path(
        rf"^experiments/{KEY}/results/(?P<snapshot_id>[0-9]+)/print/$",
        report.report_print_page,
        name="report-print",
    ),
    re_path(
        rf"^experiments/{KEY}/results/metrics/(?P<metric>[-\w.]+)/$",
        report.report_metric_page,
        name="report-metric",
    ),
    re_path(rf"^experiments/{KEY}/results/refresh/$", report.report_refresh, name="report-refresh"),
    re_path(rf"^experiments/{KEY}/results/status/$", report.report_status, name="report-status"),
]
