"""URL converters shared by the API's URL patterns.

``<key:key>`` matches any one path segment that is storable text, so a key that is not a valid
slug still reaches the view, which answers JSON 404 naming the key (``slug`` would fall through
to Django's HTML 404). A segment with a NUL character or a lone surrogate does not match.
"""

from __future__ import annotations

from django.urls import register_converter

from core.limits import storable_text


class KeyConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        if not storable_text(value):
            raise ValueError("not storable text")
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(KeyConverter, "key")
