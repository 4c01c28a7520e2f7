"""Which template an HTMX request gets: the one rule every page with named partials follows.

A full request gets the page. An HTMX request gets the partial its target names, from the
template that defines it, or the page's default partial when the target names none of them.
Every partial is also part of its full page, so links and forms work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest


def partial_template(
    request: HttpRequest, page: str, *, default: str, partials: Mapping[str, str] | None = None
) -> str:
    """``page`` for a full request; for HTMX, ``"<template>#<target>"`` when ``partials`` maps
    the request's target id to the template defining it, else ``"<page>#<default>"``."""
    if not request.htmx:
        return page
    target = request.htmx.target or ""
    if partials and target in partials:
        return f"{partials[target]}#{target}"
    return f"{page}#{default}"
