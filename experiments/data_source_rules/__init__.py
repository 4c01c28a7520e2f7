"""What a ``spark`` data source may do on the worker that runs it (docs/warehouse.md#security).

One home for the rules, used where a definition is saved (``experiments.services.data_sources``)
and where it runs (``analysis.warehouse``: refresh, session, relations), so a source saved
before a rule existed, or under another setting, is refused when it would run:

- **relations**: a table name or one SQL ``SELECT``, parsed with sqlglot (Spark dialect) and
  read node by node against allow lists: query shapes (joins, CTEs, subqueries, unions,
  windows), ``ALLOWED_FUNCTIONS``, named tables, and path-qualified tables
  (``parquet.`/data/lake/events```) only in a ``LAKE_FORMATS`` format under an allowed lake
  path. What runs on Spark is the SQL generated from the checked tree (``Relation.sql``), not
  the text as typed, so Spark executes exactly what was checked;
- **session options**: only ``SESSION_OPTIONS`` and ``SESSION_OPTION_PATTERNS`` (tuning and
  object-storage credentials); ``ENFORCED_SETTINGS`` are applied after them;
- **session URLs**: the accepted forms, connecting only to hosts the operator lists
  (``VERDICT_SPARK_ALLOWED_HOSTS``; empty: local mode only);
- **segments**: the attribute keys a source declares (``segments``); other attribute values
  are never read out of Spark.

Pure: no Django; the settings are passed in (``allowed_hosts``, ``lake_paths``). Relations
are in ``relations``, session URLs and options in ``sessions``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import Errors, RuleViolation
from .relations import (
    ALLOWED_FUNCTIONS,
    LAKE_FORMATS,
    MAX_RELATION_LENGTH,
    Relation,
    column_name_problem,
    lake_paths_parsed,
    relation_checked,
    relation_is_select,
    relation_problem,
)
from .sessions import (
    ENFORCED_SETTINGS,
    MASK,
    SESSION_OPTION_PATTERNS,
    SESSION_OPTIONS,
    SESSION_URL_HELP,
    URL_PARAM,
    allowed_hosts_parsed,
    option_problem,
    option_value_problem,
    session_kind,
    session_url_masked,
    session_url_problem,
    session_url_valid,
)

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ENFORCED_SETTINGS",
    "LAKE_FORMATS",
    "MASK",
    "MAX_RELATION_LENGTH",
    "MAX_SEGMENTS",
    "SESSION_OPTIONS",
    "SESSION_OPTION_PATTERNS",
    "SESSION_URL_HELP",
    "URL_PARAM",
    "Errors",
    "Relation",
    "RuleViolation",
    "allowed_hosts_parsed",
    "column_name_problem",
    "lake_paths_parsed",
    "option_problem",
    "option_value_problem",
    "relation_checked",
    "relation_is_select",
    "relation_problem",
    "segments_problem",
    "session_kind",
    "session_url_masked",
    "session_url_problem",
    "session_url_valid",
    "errors_text",
    "spark_source_errors",
]

# Segments ------------------------------------------------------------------------------------

MAX_SEGMENTS = 30
_SEGMENT_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")


def segments_problem(value: Any) -> str | None:
    """Why ``value`` is not a list of segment attribute keys (None: it is)."""
    if not isinstance(value, list | tuple):
        return 'Give a list of attribute keys, e.g. ["country", "platform"].'
    if len(value) > MAX_SEGMENTS:
        return f"At most {MAX_SEGMENTS} segment attributes."
    for key in value:
        if not isinstance(key, str) or not _SEGMENT_KEY.fullmatch(key):
            return (
                f"{str(key)[:64]!r} is not an attribute key (letters, digits, _ . : -, at most "
                "64 characters)."
            )
    if len(set(value)) != len(value):
        return "Each attribute key once."
    return None


# A whole definition --------------------------------------------------------------------------


def spark_source_errors(
    *,
    session_url: Any,
    exposures: Any,
    events: Any,
    exposure_columns: Mapping[str, Any] | None,
    event_columns: Mapping[str, Any] | None,
    options: Mapping[str, Any] | None,
    segments: Any,
    allowed_hosts: Sequence[str],
    lake_paths: Sequence[str],
) -> Errors:
    """Every rule a ``spark`` definition breaks, by field (``options.<name>`` per option);
    empty when it may run here."""
    errors: Errors = {}
    problem = session_url_problem(session_url, allowed_hosts)
    if problem:
        errors["session_url"] = [problem]
    for field, relation in (("exposures", exposures), ("events", events)):
        problem = relation_problem(relation, lake_paths)
        if problem:
            errors[field] = [problem]
    for field, columns in (
        ("exposure_columns", exposure_columns),
        ("event_columns", event_columns),
    ):
        for name, physical in (columns or {}).items():
            problem = column_name_problem(physical)
            if problem:
                errors.setdefault(f"{field}.{name}", []).append(problem)
    for name, value in (options or {}).items():
        problem = option_problem(name) or option_value_problem(value)
        if problem:
            errors.setdefault(f"options.{name}", []).append(problem)
    problem = segments_problem(segments if segments is not None else [])
    if problem:
        errors["segments"] = [problem]
    return errors


def errors_text(errors: Errors) -> str:
    """The errors as one text, each message after its field (for a refresh's error)."""
    return " ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
