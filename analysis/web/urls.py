"""Web pages of the analysis app, in the ``analysis-web`` namespace."""

from django.urls import path

from . import calculator

app_name = "analysis-web"

urlpatterns = [
    path("calculator/", calculator.calculator_page, name="calculator"),
]
