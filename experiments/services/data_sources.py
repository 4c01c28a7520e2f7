"""Data sources: where an experiment's exposures and events are read from (docs/warehouse.md).

Create, update and delete with the rules that keep a source usable and its secrets private:

- kind ``spark`` needs a session URL and both relations; ``builtin`` takes none of them;
- a session URL is ``local``, ``local[N]``, ``local[*]``, ``spark://host:port``,
  ``sc://host:port[/;param=value...]`` (Spark Connect) or ``yarn``, and reaches only hosts the
  operator lists in ``VERDICT_SPARK_ALLOWED_HOSTS``;
- a relation is a table name (``lake.events``, ``parquet.`/data/lake/events```) or one SQL
  ``SELECT``, checked against ``experiments.data_source_rules`` (allowed shapes and functions,
  files only under the lake paths);
- a column map sends logical columns (``core.warehouse_columns``) to physical column names;
- ``options`` (Spark configuration, may hold credentials) names only allowed settings, is
  stored as given and never appears in an audit entry, an error message or a log line: only
  its names do;
- ``segments`` lists the exposure attribute keys reports show as segments;
- a source used by a live experiment (running, paused, or stopped and awaiting its final
  refresh) cannot be deleted; other experiments that name it go back to the builtin source,
  each with an audit entry.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import ValidationFailed
from core.limits import storable_text
from core.warehouse_columns import EVENT_COLUMNS, EXPOSURE_COLUMNS
from experiments.data_source_rules import (
    MASK,
    MAX_RELATION_LENGTH,
    SESSION_URL_HELP,
    URL_PARAM,
    allowed_hosts_parsed,
    column_name_problem,
    lake_paths_parsed,
    option_problem,
    option_value_problem,
    relation_problem,
    segments_problem,
    session_url_masked,
    session_url_problem,
    spark_source_errors,
)
from experiments.models import DataSource, DataSourceKind, Experiment, ExperimentStatus

from .audit import audit_record

Errors = dict[str, list[str]]

FIELDS = (
    "name",
    "kind",
    "session_url",
    "exposures",
    "events",
    "exposure_columns",
    "event_columns",
    "options",
    "segments",
)
SPARK_FIELDS = (
    "session_url",
    "exposures",
    "events",
    "exposure_columns",
    "event_columns",
    "segments",
)
# Experiments that may still be refreshed: their source must stay.
LIVE_STATUSES = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED, ExperimentStatus.STOPPED)
__all__ = [
    "MASK",
    "SESSION_URL_HELP",
    "data_source_create",
    "data_source_delete",
    "data_source_errors",
    "data_source_public",
    "data_source_rule_errors",
    "data_source_update",
    "session_url_masked",
    "spark_rule_errors",
    "spark_allowed_hosts",
    "spark_lake_paths",
]


def spark_allowed_hosts() -> tuple[str, ...]:
    """The hosts Spark sessions may connect to (``VERDICT_SPARK_ALLOWED_HOSTS``)."""
    return allowed_hosts_parsed(getattr(settings, "VERDICT_SPARK_ALLOWED_HOSTS", ()))


def spark_lake_paths() -> tuple[str, ...]:
    """The path prefixes relations may read files under: ``VERDICT_SPARK_ALLOWED_PATHS`` and
    the lake export's ``VERDICT_LAKE_EXPORT_DIR``."""
    paths = getattr(settings, "VERDICT_SPARK_ALLOWED_PATHS", ())
    items = paths.split(",") if isinstance(paths, str) else list(paths or ())
    export = getattr(settings, "VERDICT_LAKE_EXPORT_DIR", "")
    return lake_paths_parsed([*items, export] if export else items)


def _unmask_session_url(new: str, old: str) -> str:
    """A session URL sent back with masked credentials keeps the stored ones."""
    if MASK not in new:
        return new
    stored = dict(URL_PARAM.findall(old))

    def keep(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if value == MASK and name in stored:
            return f";{name}={stored[name]}"
        return match.group(0)

    return URL_PARAM.sub(keep, new)


def _check_relation(value: Any, field: str, errors: Errors) -> None:
    if isinstance(value, str) and len(value) > MAX_RELATION_LENGTH:
        errors.setdefault(field, []).append(f"At most {MAX_RELATION_LENGTH} characters.")
        return
    problem = relation_problem(value, spark_lake_paths())
    if problem:
        errors.setdefault(field, []).append(problem)


def _check_columns(value: Any, field: str, logical: tuple[str, ...], errors: Errors) -> None:
    if not isinstance(value, dict):
        errors.setdefault(field, []).append(
            'Expected an object from logical to physical column, e.g. {"unit_id": "user_id"}.'
        )
        return
    for name, physical in value.items():
        if name not in logical:
            errors.setdefault(f"{field}.{name}", []).append(
                f"Unknown column; the columns are: {', '.join(logical)}."
            )
        elif problem := column_name_problem(physical):
            errors.setdefault(f"{field}.{name}", []).append(problem)


def _check_options(value: Any, errors: Errors) -> None:
    # Never echo a value: options may hold credentials.
    if not isinstance(value, dict):
        errors.setdefault("options", []).append(
            'Expected an object of Spark settings, e.g. {"spark.executor.memory": "4g"}.'
        )
        return
    for name, setting in value.items():
        if not name or len(name) > 200 or any(ch.isspace() for ch in name):
            errors.setdefault("options", []).append(
                f"{name[:200]!r} is not a setting name (no spaces, at most 200 characters)."
            )
        elif not isinstance(setting, str | int | float | bool) or (
            isinstance(setting, str) and len(setting) > 10_000
        ):
            errors.setdefault(f"options.{name}", []).append(
                "A setting is a string, number or true/false (at most 10,000 characters)."
            )
        elif problem := option_problem(name) or option_value_problem(setting):
            errors.setdefault(f"options.{name}", []).append(problem)


TEXT_HELP = "Must be valid Unicode text without NUL characters."


def _check_storable(data: dict[str, Any], errors: Errors) -> None:
    """Text the database cannot store (NUL, lone surrogates) is an error on its field."""
    for field in ("key", "name", "session_url", "exposures", "events"):
        value = data.get(field)
        if isinstance(value, str) and not storable_text(value):
            errors.setdefault(field, []).append(TEXT_HELP)
    for field in ("exposure_columns", "event_columns", "options"):
        value = data.get(field)
        if not isinstance(value, dict):
            continue
        texts = [str(k) for k in value] + [v for v in value.values() if isinstance(v, str)]
        if not all(storable_text(text) for text in texts):
            errors.setdefault(field, []).append(TEXT_HELP)


def data_source_errors(data: dict[str, Any]) -> Errors:
    """What is wrong with a full data-source definition (empty when it is valid)."""
    errors: Errors = {}
    _check_storable(data, errors)
    if errors:
        return errors
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        errors["name"] = ["A name is required."]
    kind = data.get("kind")
    if kind not in DataSourceKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(DataSourceKind.values)}."]
        return errors
    if kind == DataSourceKind.BUILTIN:
        for field in SPARK_FIELDS:
            if data.get(field):
                errors.setdefault(field, []).append(
                    "A builtin source reads the application database; leave this empty."
                )
        if data.get("options"):
            errors.setdefault("options", []).append(
                "A builtin source takes no Spark options; leave this empty."
            )
        return errors
    url = data.get("session_url")
    if not url:
        errors["session_url"] = [f"A spark source needs a session URL: {SESSION_URL_HELP}."]
    elif problem := session_url_problem(url, spark_allowed_hosts()):
        errors["session_url"] = [problem]
    _check_relation(data.get("exposures"), "exposures", errors)
    _check_relation(data.get("events"), "events", errors)
    _check_columns(data.get("exposure_columns") or {}, "exposure_columns", EXPOSURE_COLUMNS, errors)
    _check_columns(data.get("event_columns") or {}, "event_columns", EVENT_COLUMNS, errors)
    _check_options(data.get("options") or {}, errors)
    if problem := segments_problem(data.get("segments") or []):
        errors["segments"] = [problem]
    return errors


def data_source_rule_errors(source: DataSource) -> Errors:
    """The rules a stored ``spark`` source breaks under this server's settings now (empty when
    it may run): checked again when it runs, so a source saved before a rule, or under other
    settings, is refused rather than run."""
    if source.kind != DataSourceKind.SPARK:
        return {}
    return spark_rule_errors(
        session_url=source.session_url,
        exposures=source.exposures,
        events=source.events,
        exposure_columns=source.exposure_columns,
        event_columns=source.event_columns,
        options=source.options,
        segments=source.segments,
    )


def spark_rule_errors(**fields: Any) -> Errors:
    """``experiments.data_source_rules.spark_source_errors`` for a spark definition's fields
    (``session_url``, ``exposures``, ``events``, ``exposure_columns``, ``event_columns``,
    ``options``, ``segments``) under this server's settings now."""
    return spark_source_errors(
        **fields, allowed_hosts=spark_allowed_hosts(), lake_paths=spark_lake_paths()
    )


def data_source_public(source: DataSource) -> dict[str, Any]:
    """The definition as anyone allowed to read it sees it (audit entries, API, admin):
    option values and session-URL credentials masked."""
    return {
        "key": source.key,
        "name": source.name,
        "kind": source.kind,
        "session_url": session_url_masked(source.session_url),
        "exposures": source.exposures,
        "events": source.events,
        "exposure_columns": source.exposure_columns,
        "event_columns": source.event_columns,
        "options": {name: MASK for name in sorted(source.options or {})},
        "segments": list(source.segments or []),
    }


def _normalized(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for field in ("session_url", "exposures", "events"):
        if isinstance(out.get(field), str):
            out[field] = out[field].strip()
        elif out.get(field) is None:
            out[field] = ""
    for field in ("exposure_columns", "event_columns", "options"):
        if out.get(field) is None:
            out[field] = {}
    if out.get("segments") is None:
        out["segments"] = []
    return out


@transaction.atomic
def data_source_create(*, actor: Actor, data: dict[str, Any]) -> DataSource:
    """Create a data source; a refusal (``ValidationFailed``) stores nothing."""
    data = _normalized({"kind": DataSourceKind.BUILTIN, **data})
    errors = data_source_errors(data)
    key = data.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,64}", key):
        errors.setdefault("key", []).append("A key of letters, digits, - and _ (at most 64).")
    elif DataSource.objects.filter(key=key).exists():
        errors.setdefault("key", []).append(f'A data source with key "{key}" exists.')
    if errors:
        raise ValidationFailed(errors)
    source = DataSource(key=key)
    for field in FIELDS:
        setattr(source, field, data[field])
    source.save()
    audit_record(
        actor=actor,
        action="create",
        object_type="data_source",
        object_key=source.key,
        after=data_source_public(source),
    )
    return source


@transaction.atomic
def data_source_update(*, actor: Actor, source: DataSource, data: dict[str, Any]) -> DataSource:
    """Change the fields given. ``options`` merges name by name (a null value removes a
    setting), so a stored credential stays unless it is replaced; a session URL sent back with
    masked credentials keeps the stored ones. The key cannot change."""
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    if "key" in data and data["key"] != source.key:
        raise ValidationFailed({"key": ["A data source's key cannot change; create a new one."]})
    errors: Errors = {}
    stored_options = dict(source.options or {})
    options = dict(stored_options)
    if "options" in data and data["options"] is not None:
        if not isinstance(data["options"], dict):
            _check_options(data["options"], errors)
        else:
            for name, setting in data["options"].items():
                if setting is None:
                    options.pop(name, None)
                else:
                    options[name] = setting
    merged = {field: getattr(source, field) for field in FIELDS}
    merged.update({k: v for k, v in data.items() if k in FIELDS and k != "options"})
    merged["options"] = options
    merged = _normalized(merged)
    merged["session_url"] = _unmask_session_url(merged["session_url"], source.session_url)
    for field, messages in data_source_errors(merged).items():
        errors.setdefault(field, []).extend(messages)
    if merged["kind"] != source.kind:
        live = list(
            source.experiments.filter(status__in=LIVE_STATUSES).values_list("key", flat=True)
        )
        if live:
            errors.setdefault("kind", []).append(
                f"Live experiments read from this source: {', '.join(live)}. "
                "Its kind cannot change while they run."
            )
    if errors:
        raise ValidationFailed(errors)
    before = data_source_public(source)
    for field in FIELDS:
        setattr(source, field, merged[field])
    source.save()
    after = data_source_public(source)
    # Same names, other values: recorded without the values.
    secret_changed = before["options"] == after["options"] and options != stored_options
    if before != after or secret_changed:
        audit_record(
            actor=actor,
            action="update",
            object_type="data_source",
            object_key=source.key,
            before=before,
            after=after,
            message="Option values changed." if secret_changed else "",
        )
    return source


@transaction.atomic
def data_source_delete(*, actor: Actor, source: DataSource) -> None:
    """Delete a data source no live experiment reads; others that name it go back to the
    builtin source (with an audit entry each)."""
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    live = list(source.experiments.filter(status__in=LIVE_STATUSES).values_list("key", flat=True))
    if live:
        raise ValidationFailed(
            f'Data source "{source.key}" is used by live experiments: {", ".join(live)}. '
            "Stop and conclude them (or wait for their final refresh) first."
        )
    for experiment in Experiment.objects.filter(data_source=source).select_for_update():
        experiment.data_source = None
        experiment.save(update_fields=["data_source", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            experiment=experiment,
            before={"data_source": source.key},
            after={"data_source": None},
            message=f'Data source "{source.key}" was deleted; the builtin source applies.',
        )
    audit_record(
        actor=actor,
        action="delete",
        object_type="data_source",
        object_key=source.key,
        before=data_source_public(source),
    )
    source.delete()


def data_source_key(value: Any) -> str | None:
    """The key an experiment's ``data_source`` input names: a key (the API), a ``DataSource``
    (the admin's choice field), or None / "" for the builtin source."""
    if isinstance(value, DataSource):
        return value.key
    return value or None


def data_source_for_key(key: Any, errors: Errors, field: str = "data_source") -> DataSource | None:
    """The data source an experiment names by key (None: builtin); an unknown key is an error."""
    key = data_source_key(key)
    if key is None:
        return None
    source = DataSource.objects.filter(key=key).first()
    if source is None:
        errors.setdefault(field, []).append(
            f'No data source with key "{key}". Admins create data sources (/api/v1/data-sources).'
        )
    return source


def data_source_locked_message() -> str:
    """Why a started experiment's data source cannot change (the locked-fields rule)."""
    return gettext(
        "The data source cannot change once the experiment has started: its results would mix "
        "two sources. Start a new experiment to read another source."
    )
