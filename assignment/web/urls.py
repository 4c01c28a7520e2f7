"""The Try-it tab of the experiment page, in the ``assignment-web`` namespace."""

from django.urls import re_path

from . import try_it

app_name = "assignment-web"

urlpatterns = [
    re_path(r"^experiments/(?P<key>(?!new/)[-\w]+)/try/$", try_it.try_it_page, name="try-it"),
]
