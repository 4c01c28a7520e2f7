"""The readout's addresses (namespace ``web``, see ``console.urls``): the latest snapshot's
readout, a permalink to one snapshot's, and the learnings form."""

from django.urls import re_path

from console.experiments.urls import KEY

from . import views

urlpatterns = [
    re_path(rf"^experiments/{KEY}/readout/$", views.readout_page, name="experiment-readout"),
    re_path(
        rf"^experiments/{KEY}/readout/(?P<snapshot_id>[0-9]+)/$",
        views.readout_page,
        name="experiment-readout-snapshot",
    ),
    re_path(
        rf"^experiments/{KEY}/readout/learnings/$",
        views.readout_learnings,
        name="experiment-learnings",
    ),
]
