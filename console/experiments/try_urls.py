"""The Try-it tab of the experiment page (namespace ``assignment-web``, see ``console.urls``)."""

from django.urls import re_path

from . import try_it
from .urls import KEY

urlpatterns = [
    re_path(rf"^experiments/{KEY}/try/$", try_it.try_it_page, name="try-it"),
]
