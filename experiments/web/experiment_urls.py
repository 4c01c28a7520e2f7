"""The experiments list and the experiment page with its tabs."""

from django.urls import path

from . import experiment_list

urlpatterns = [
    path("experiments/", experiment_list.experiment_list_page, name="experiment-list"),
]
