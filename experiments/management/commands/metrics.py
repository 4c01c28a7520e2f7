"""``python manage.py metrics export`` / ``metrics apply <file> [--dry-run] [--as <username>]``.

The metrics library as a YAML file: ``export`` writes every metric's definition; ``apply`` reads
a file, checks each metric with the API's input serializer, and applies them all or nothing
through ``experiments.services.metrics_as_code.metrics_apply`` (the metric services the API
uses). This module only reads and writes the file and the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from core.actors import Actor
from core.api_errors import flatten_errors
from experiments.api.serializers import MetricInput
from experiments.services.metrics_as_code import (
    MetricChange,
    MetricsApplied,
    metrics_apply,
    metrics_export,
)

HEADER = (
    "# Verdict metrics library. Edit, then check with\n"
    "#   python manage.py metrics apply <this file> --dry-run\n"
    "# and apply without --dry-run. Metrics left out of the file are left alone.\n"
)
DOCUMENT_KEY = "metrics"
DEFAULT_ACTOR = "metrics apply"


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (a metric defined twice
    would otherwise be silently replaced by the later one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: the base loader reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is written twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _type_name(value: Any) -> str:
    return (
        "nothing"
        if value is None
        else {list: "a list", str: "a text"}.get(type(value), f"a {type(value).__name__}")
    )


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def read_definitions(
    text: str, source: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, list[str]]]]:
    """The definitions of a metrics file, checked like the API's input, and the problems found
    (metric key -> field -> messages). A file that is not a metrics document raises
    ``CommandError``."""
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise CommandError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or DOCUMENT_KEY not in document:
        raise CommandError(
            f'{source}: expected a mapping with a "{DOCUMENT_KEY}" key (metric key -> fields), '
            f"found {_type_name(document)}."
        )
    extra = sorted(str(k) for k in document if k != DOCUMENT_KEY)
    if extra:
        raise CommandError(f"{source}: unknown top-level keys: {', '.join(extra)}.")
    metrics = document[DOCUMENT_KEY] or {}
    if not isinstance(metrics, dict):
        raise CommandError(
            f'{source}: "{DOCUMENT_KEY}" must map each metric key to its fields, '
            f"found {_type_name(metrics)}."
        )
    allowed = [name for name in MetricInput().fields if name != "key"]
    definitions: list[dict[str, Any]] = []
    problems: dict[str, dict[str, list[str]]] = {}
    for raw_key, fields in metrics.items():
        key = str(raw_key)
        if not isinstance(fields, dict):
            problems[key] = {
                "non_field_errors": [
                    f"Expected a mapping of field names to values, found {_type_name(fields)}."
                ]
            }
            continue
        unknown = sorted(str(name) for name in fields if name not in allowed)
        if unknown:
            problems[key] = {
                name: [f"Unknown field; a metric's fields are: {', '.join(allowed)}."]
                for name in unknown
            }
            continue
        data = {"key": raw_key, **fields}
        with translation.override("en"):
            serializer = MetricInput(data=data, partial=False)
            valid = serializer.is_valid()
        if not valid:
            problems[key] = flatten_errors(serializer.errors)
            continue
        definitions.append(dict(serializer.validated_data))
    return definitions, problems


class Command(BaseCommand):
    help = (
        "The metrics library as code: `metrics export > metrics.yaml` writes every metric's "
        "definition; `metrics apply metrics.yaml [--dry-run] [--as <username>]` shows the "
        "changes and applies them all or nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("export", help="Write every metric's definition as YAML to stdout.")
        apply = actions.add_parser(
            "apply", help="Create or change the metrics of a YAML file, all or nothing."
        )
        apply.add_argument("file", help="A YAML file as `metrics export` writes it.")
        apply.add_argument(
            "--dry-run", action="store_true", help="Show the changes and store nothing."
        )
        apply.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help=f'The user the audit log names (default: "{DEFAULT_ACTOR}").',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export()
        else:
            self._apply(options["file"], dry_run=options["dry_run"], as_user=options["as_user"])

    def _export(self) -> None:
        metrics = {
            str(d["key"]): {k: v for k, v in d.items() if k != "key"} for d in metrics_export()
        }
        body = yaml.safe_dump(
            {DOCUMENT_KEY: metrics},
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
        self.stdout.write(HEADER + body, ending="")

    def _actor(self, as_user: str | None) -> Actor:
        if not as_user:
            return Actor.system(DEFAULT_ACTOR)
        user = get_user_model().objects.filter(username=as_user, is_active=True).first()
        if user is None:
            raise CommandError(f'--as: no active user "{as_user}".')
        return Actor(label=user.get_username(), user=user)

    def _apply(self, file: str, *, dry_run: bool, as_user: str | None) -> None:
        actor = self._actor(as_user)
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        definitions, problems = read_definitions(text, file)
        with translation.override("en"):
            result = metrics_apply(
                actor=actor, definitions=definitions, dry_run=dry_run, problems=problems
            )
        self._report(result, dry_run=dry_run)

    def _report(self, result: MetricsApplied, *, dry_run: bool) -> None:
        w = self.stdout.write
        for change in result.changes:
            self._change(change)
        if result.left_alone:
            w(f"Left alone (not in the file): {', '.join(result.left_alone)}.")
        if result.problems:
            for key, fields in result.problems.items():
                for name, messages in fields.items():
                    for message in messages:
                        where = f'field "{name}"' if name != "non_field_errors" else "definition"
                        self.stderr.write(f'metric "{key}", {where}: {message}')
            count = sum(len(m) for fields in result.problems.values() for m in fields.values())
            raise CommandError(
                f"{count} problem(s) in {len(result.problems)} metric(s): nothing stored."
            )
        counts = {action: 0 for action in ("created", "changed", "unchanged")}
        for change in result.changes:
            counts[change.action] += 1
        summary = ", ".join(f"{n} {action}" for action, n in counts.items())
        if not counts["created"] and not counts["changed"]:
            w(f"No changes: every metric in the file is as stored ({summary}).")
        elif dry_run:
            w(f"Dry run, nothing stored: {summary}.")
        else:
            w(f"Applied: {summary}.")

    def _change(self, change: MetricChange) -> None:
        w = self.stdout.write
        w(f"{change.key}: {change.action}")
        for c in change.fields:
            if change.action == "created":
                if c.after not in (None, ""):
                    w(f"  {c.field}: {_shown(c.after)}")
            else:
                w(f"  {c.field}: {_shown(c.before)} → {_shown(c.after)}")
