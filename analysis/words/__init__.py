"""Words for the engine's codes, in the reader's language: one renderer for every reader.

The engine (``analysis.engine``) writes no sentences: a decision reason, a health message or
a breaker message is a code with its raw values (``Coded``; the codes are listed in
``analysis.engine.codes``), and results store only those. This package turns a code into
words through Django's translation catalogue and number formats, for the report page and its
print view, emails and webhooks (``analysis.services.notifications``), the breaker's audit
entry (``analysis.services.breaker``), the API's English ``reasons`` and ``message``
(``analysis.api``) and ``manage.py analyze``. The services, the API and the console render the
same code with the same function, so they cannot say different things.

It lives in the ``analysis`` app, outside the pure engine (it needs Django's gettext and
number formatting) and outside ``console``: the console is the top layer and no domain app
imports it, yet the API, notifications and the breaker need these words too. The console
imports them from here.
"""

from __future__ import annotations

from .render import (
    REGISTRY,
    Labels,
    breaker_message,
    decision_reasons,
    health_message,
    labels_of,
    render,
    results_in_words,
)

__all__ = [
    "REGISTRY",
    "Labels",
    "breaker_message",
    "decision_reasons",
    "health_message",
    "labels_of",
    "render",
    "results_in_words",
]
