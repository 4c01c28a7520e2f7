"""Simplified Chinese formats: Django's, with numbers grouped by thousands with a comma (12,345),
as Chinese product and finance pages print them, rather than ungrouped."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
