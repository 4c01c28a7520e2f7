"""The web UI for product managers and analysts: server-rendered pages with HTMX partials.

Views only translate requests into calls to the services and selectors, with the same rules
and error messages as the API. Pages live in ``templates/experiments/``.
"""
