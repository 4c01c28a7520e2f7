"""Where a refresh reads an experiment's exposures and events: its data source decides.

No data source, or a ``builtin`` one: the application database
(``analysis.aggregation.experiment_inputs``, unchanged). A ``spark`` source: the Spark engine
(``analysis.warehouse.engine.spark_inputs``) with a ``SparkSource`` built from the definition.

A ``spark`` source that breaks the data-source rules under this server's settings now
(``experiments.data_source_rules``: a source saved before a rule, or a setting since
changed) is refused before anything runs: its refresh fails saying which rule, by field.

A Spark failure (no pyspark here, an unreachable cluster, a query Spark refuses) becomes a
``SparkRefreshFailed`` whose message says what went wrong in one sentence: the refresh stores
it as a failed snapshot, readers are told only the error's type, and no Spark stack text or
option value reaches the snapshot or the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from analysis.aggregation import experiment_inputs
from analysis.engine.contract import SnapshotInputs
from analysis.warehouse.source import SparkSource
from experiments.data_source_rules import RuleViolation, errors_text
from experiments.models import DataSource, DataSourceKind, Experiment
from experiments.services.data_sources import data_source_rule_errors, session_url_masked

logger = logging.getLogger(__name__)
# py4j logs every command it sends to the JVM at DEBUG, Spark settings (the data source's
# options, which may hold credentials) included: its DEBUG lines are never emitted.
_PY4J = logging.getLogger("py4j")
if _PY4J.getEffectiveLevel() < logging.INFO or _PY4J.level == logging.NOTSET:
    _PY4J.setLevel(logging.INFO)

_CONNECTION_HINTS = (
    "connection refused",
    "failed to connect",
    "unavailable",
    "name or service not known",
    "temporary failure in name resolution",
    "deadline exceeded",
    "connection reset",
    "no route to host",
    "timed out",
)
_CONNECTION_TYPES = ("Grpc", "Connect", "ConnectionError", "Py4JNetworkError", "Timeout")
_QUERY_TYPES = ("AnalysisException", "ParseException", "ParseError", "SparkRuntimeException")
_MESSAGE_CUT = re.compile(r"\n|JVM stacktrace|\tat |Traceback", re.IGNORECASE)


class SparkRefreshFailed(Exception):
    """A refresh from a ``spark`` data source failed; the message is fit for the snapshot."""


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def spark_source_for(data_source: DataSource) -> SparkSource:
    """The engine's view of a ``spark`` data source (options as Spark's string settings)."""
    return SparkSource(
        session_url=data_source.session_url,
        exposures=data_source.exposures,
        events=data_source.events,
        exposure_columns=dict(data_source.exposure_columns or {}),
        event_columns=dict(data_source.event_columns or {}),
        options={name: _option_text(v) for name, v in (data_source.options or {}).items()},
        segments=tuple(data_source.segments or ()),
    )


def _scrub(text: str, source: DataSource) -> str:
    """``text`` without the source's option values or session-URL credentials."""
    text = text.replace(source.session_url, session_url_masked(source.session_url))
    for value in (source.options or {}).values():
        secret = _option_text(value)
        if len(secret) >= 4:
            text = text.replace(secret, "********")
    for token in re.findall(r";[^;=]*(?:token|secret|password)[^;=]*=([^;\s]+)", text, re.I):
        text = text.replace(token, "********")
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    text = _MESSAGE_CUT.split(text, maxsplit=1)[0].strip()
    return (text[:300] + "...") if len(text) > 300 else text


def _type_names(exc: BaseException) -> str:
    return " ".join(cls.__name__ for cls in type(exc).__mro__)


def spark_failure_message(exc: BaseException, source: DataSource) -> str:
    """One sentence that says why a Spark refresh failed, without stack text or secrets."""
    where = session_url_masked(source.session_url)
    if isinstance(exc, ImportError):
        return (
            "The Spark engine is not installed on this server: install Verdict with its "
            "warehouse extra (pyspark, sqlglot) and a Java 17 runtime."
        )
    names, first = _type_names(exc), _first_line(exc)
    lowered = str(exc).lower()
    if isinstance(exc, RuleViolation):
        return _scrub(_refused(source, first), source)
    if any(n in names for n in _QUERY_TYPES):
        return _scrub(f'Spark could not run data source "{source.key}"\'s query: {first}', source)
    if any(n in names for n in _CONNECTION_TYPES) or any(h in lowered for h in _CONNECTION_HINTS):
        return f'Spark could not be reached at {where} (data source "{source.key}").'
    if isinstance(exc, ValueError):
        return _scrub(f'Data source "{source.key}" does not fit the analysis: {first}', source)
    return _scrub(
        f'The Spark refresh from data source "{source.key}" failed ({type(exc).__name__}): {first}',
        source,
    )


def _refused(source: DataSource, why: str) -> str:
    return (
        f'Data source "{source.key}" breaks this server\'s data-source rules, so it was not '
        f"run: {why} Fix it in the admin or the API (docs/warehouse.md#security)."
    )


def data_source_refusal(source: DataSource) -> str | None:
    """Why ``source`` may not run here now (None: it may), as a snapshot's error."""
    errors = data_source_rule_errors(source)
    return _scrub(_refused(source, errors_text(errors)), source) if errors else None


def experiment_inputs_routed(
    *, experiment: Experiment, as_of: dt.datetime, segments: bool = True
) -> SnapshotInputs:
    """The snapshot inputs of ``experiment`` up to ``as_of``, read from its data source
    (without the segment breakdown when ``segments`` is false)."""
    source = experiment.data_source
    if source is None or source.kind == DataSourceKind.BUILTIN:
        return experiment_inputs(experiment=experiment, as_of=as_of, segments=segments)
    refusal = data_source_refusal(source)
    if refusal:
        logger.warning("spark refresh of %s refused: %s", experiment.key, refusal)
        raise SparkRefreshFailed(refusal)
    try:
        from analysis.warehouse.engine import spark_inputs

        return spark_inputs(
            experiment=experiment,
            as_of=as_of,
            source=spark_source_for(source),
            segments=segments,
        )
    except Exception as exc:
        message = spark_failure_message(exc, source)
        logger.warning(
            "spark refresh of %s failed: %s (%s: %s)",
            experiment.key,
            message,
            type(exc).__name__,
            _scrub(str(exc)[:2000], source),
        )
        raise SparkRefreshFailed(message) from None
