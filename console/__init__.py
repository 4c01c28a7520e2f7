"""The console: every server-rendered page, form, partial, label and chart view, on top of the
domain apps (it may import each of them; none imports it).

Views only translate requests into calls to the services and selectors, with the same rules
and error messages as the API. Templates live in ``console/templates/`` under their page's
name (``experiments/...``, ``analysis/...``), static assets in ``console/static/verdict/``.

- ``experiments/``: the experiments list and the experiment page with its tabs and actions.
- ``experiment_form/``: the guided form that creates and edits experiments.
- ``library/``: metrics, layers and API keys.
- ``report/``: the Results tab (the significance report) and its words, tables and charts.
- ``calculator.py``: the sample-size calculator and "paste your numbers".
- ``labels.py``: the stored codes' labels in the reader's language; ``partials.py``: which
  template an HTMX request gets.
"""
