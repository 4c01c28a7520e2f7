"""Coded messages: a decision reason, health message or breaker message as a stable code and
its parameters.

Results store every reason and health message as a ``Coded`` message only: a code that names
the sentence (``analysis.engine.codes``) and the raw values it is made of (numbers
unformatted, names as keys). ``analysis.words`` renders the code in the reader's language
(English for the API, emails and webhooks); results stored before schema version 4 have no
codes and keep their stored English words.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .model import CONTRACT, Contract, dataclass, or_default


@dataclass(frozen=True, config=CONTRACT)
class Coded(Contract):
    """A sentence by its ``code`` with the values it says (JSON values: numbers, strings,
    lists and objects of them)."""

    code: str
    params: Annotated[
        dict[str, Any],
        or_default({}),
        Field(
            description="The values the coded message says: numbers unformatted, names as "
            'keys (the codes and their values: docs/analysis.md, "Coded reasons and '
            'messages").'
        ),
    ] = Field(default_factory=dict)
