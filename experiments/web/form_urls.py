"""The guided form that creates and edits experiments."""

from django.urls import path

from . import experiment_form

urlpatterns = [
    path("experiments/new/", experiment_form.experiment_create_page, name="experiment-create"),
    path(
        "experiments/<slug:key>/edit/", experiment_form.experiment_edit_page, name="experiment-edit"
    ),
]
