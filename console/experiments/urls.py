"""The experiments list and the experiment page with its tabs and actions.

``/experiments/new/`` and ``/experiments/<key>/edit/`` belong to the guided form
(``console/experiment_form/urls.py``), so the patterns here leave them alone. The Results tab
is the report (``console/report/urls.py``), the Try-it tab ``console/experiments/try_urls.py``.
"""

from django.urls import path, re_path

from . import duplicate_views, experiment_list, experiment_page, lifecycle_views, override_views

# An experiment key in a URL (never "new", the guided form's address).
KEY = r"(?P<key>(?!new/)[-\w]+)"

urlpatterns = [
    path("experiments/", experiment_list.experiment_list_page, name="experiment-list"),
    re_path(
        rf"^experiments/{KEY}/$",
        experiment_page.experiment_detail_page,
        name="experiment-detail",
    ),
    re_path(
        rf"^experiments/{KEY}/(?P<tab>overrides|audit|integrate)/$",
        experiment_page.experiment_tab_page,
        name="experiment-tab",
    ),
    re_path(
        rf"^experiments/{KEY}/actions/(?P<action>[-\w]+)/$",
        lifecycle_views.experiment_action_page,
        name="experiment-action",
    ),
    re_path(
        rf"^experiments/{KEY}/duplicate/$",
        duplicate_views.experiment_duplicate_page,
        name="experiment-duplicate",
    ),
    re_path(
        rf"^experiments/{KEY}/overrides/add/$",
        override_views.override_add,
        name="experiment-override-add",
    ),
    re_path(
        rf"^experiments/{KEY}/overrides/(?P<pk>[0-9]+)/remove/$",
        override_views.override_remove,
        name="experiment-override-remove",
    ),
]
