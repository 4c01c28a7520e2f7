"""Coded messages: a decision reason or health message as a stable code and its parameters.

The results keep each reason and health message in English words (``Decision.reasons``,
``HealthCheck.message``) and, since schema version 4, as a ``Coded`` message too: a code that
names the sentence and the raw values it is made of (numbers unformatted, names as keys).
A page renders the code in the reader's language (``analysis.web.reasons``); results stored
before version 4 have no codes and are shown in their stored English.
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
