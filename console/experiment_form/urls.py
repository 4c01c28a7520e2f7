"""The guided form that creates and edits experiments."""

from django.urls import path

from . import views

urlpatterns = [
    path("experiments/new/", views.experiment_create_page, name="experiment-create"),
    path("experiments/<slug:key>/edit/", views.experiment_edit_page, name="experiment-edit"),
]
