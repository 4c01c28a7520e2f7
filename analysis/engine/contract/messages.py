"""Coded messages: a decision reason, health message or breaker message as a stable code and
its parameters.

Results store every reason and health message as a ``Coded`` message only: a code that names
the sentence (``analysis.engine.codes``) and the raw values it is made of (numbers
unformatted, names as keys). ``analysis.words`` renders the code in the reader's language
(English for the API, emails and webhooks); results stored before schema version 4 have no
codes and keep their stored English words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Coded:
    """A sentence by its ``code`` with the values it says (JSON values: numbers, strings,
    lists and objects of them)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coded:
        return cls(code=str(data["code"]), params=dict(data.get("params") or {}))
