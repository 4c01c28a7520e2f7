"""Every page's URL, mounted once by ``config.urls``.

Three namespaces, whose names the templates and links use: ``web`` (the experiments list, the
experiment page with its tabs and actions, the guided form, the libraries), ``analysis-web``
(the Results report and the sample-size calculator) and ``assignment-web`` (the Try-it tab).
"""

from django.urls import include, path

from . import calculator

web_patterns = [
    path("", include("console.experiments.urls")),
    path("", include("console.experiment_form.urls")),
    path("", include("console.library.urls")),
    path("", include("console.readout.urls")),
]
assignment_patterns = [path("", include("console.experiments.try_urls"))]
analysis_patterns = [
    path("calculator/", calculator.calculator_page, name="calculator"),
    path("", include("console.report.urls")),
]

urlpatterns = [
    path("", include((web_patterns, "web"))),
    path("", include((assignment_patterns, "assignment-web"))),
    path("", include((analysis_patterns, "analysis-web"))),
]
