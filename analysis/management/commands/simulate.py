"""``python manage.py simulate <experiment_key> --users N --days D --seed S``: simulated traffic
with planted effects, then a table of each planted effect beside Verdict's estimate."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analysis.services.snapshots import RefreshFailed, experiment_refresh
from analysis.simulation import SCENARIOS, scenario_from_dict, scenario_load, simulate
from analysis.simulation.bulk import simulate_bulk
from analysis.simulation.planted import planted_effects_record
from analysis.simulation.progress import progress_printer
from analysis.simulation.report import truth_rows, truth_table
from core.errors import ValidationFailed
from experiments.models import Experiment


class Command(BaseCommand):
    help = (
        "Send simulated users (assignments, exposures, events) through a running experiment, "
        "refresh it and print each planted effect beside Verdict's estimate."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("experiment_key")
        parser.add_argument("--users", type=int, default=10_000, help="users who arrive")
        parser.add_argument("--days", type=float, default=14, help="days they arrive over")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same run)")
        parser.add_argument(
            "--scenario",
            help="a JSON scenario file (default: the built-in scenario for this experiment)",
        )
        parser.add_argument(
            "--effects",
            help='planted effects as JSON, e.g. \'{"pro39": {"conversion": -0.1}}\' '
            "(replaces the scenario's)",
        )
        parser.add_argument(
            "--per-call",
            action="store_true",
            help="store call by call through the services (as the API does) instead of the "
            "bulk path",
        )
        parser.add_argument("--url", help="send through this server's HTTP API instead")
        parser.add_argument("--api-key", help="an app key, with --url")
        parser.add_argument("--no-refresh", action="store_true", help="skip the refresh and table")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["experiment_key"]
        experiment = Experiment.objects.filter(key=key).first()
        if experiment is None:
            raise CommandError(f'No experiment with key "{key}".')
        scenario = self._scenario(key, options)
        if options["url"] and not options["api_key"]:
            raise CommandError("--url needs --api-key (a key with the app role).")
        progress = progress_printer(sys.stderr)
        started = time.perf_counter()
        try:
            if options["url"] or options["per_call"]:
                result = simulate(
                    experiment=experiment,
                    scenario=scenario,
                    users=options["users"],
                    days=options["days"],
                    seed=options["seed"],
                    progress=progress,
                    url=options["url"],
                    api_key=options["api_key"],
                )
            else:
                result = simulate_bulk(
                    experiment=experiment,
                    scenario=scenario,
                    users=options["users"],
                    days=options["days"],
                    seed=options["seed"],
                    progress=progress,
                )
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        planted_effects_record(experiment=experiment, scenario=scenario)
        elapsed = time.perf_counter() - started
        w = self.stdout.write
        units = ", ".join(f"{k} {n:,}" for k, n in sorted(result.exposed.items()))
        w(f"{result.users:,} users; exposed: {units}")
        w(
            f"events: {result.events_sent:,} sent, {result.accepted:,} stored, "
            f"{result.duplicates:,} duplicates ({result.retried:,} retried), "
            f"{result.rejected:,} rejected, {result.late:,} late, "
            f"{result.unexposed_events:,} from units never exposed"
        )
        w(f"sent and stored in {elapsed:.1f} s")
        if options["no_refresh"]:
            return
        try:
            snapshot = experiment_refresh(experiment=experiment)
        except RefreshFailed as exc:
            raise CommandError(f"Refresh failed: {exc.snapshot.error}") from exc
        w(f"\n{scenario.description}\n")
        w(truth_table(truth_rows(experiment=experiment, scenario=scenario, snapshot=snapshot)))

    def _scenario(self, key: str, options: dict[str, Any]) -> Any:
        try:
            if options["scenario"]:
                scenario = scenario_load(options["scenario"])
            else:
                base = SCENARIOS.get(key)
                scenario = scenario_from_dict(
                    {"experiment": key}
                    if base is None
                    else {
                        "experiment": key,
                        "description": base.description,
                        "control": base.control.__dict__,
                        "effects": base.effects,
                        "population": base.population,
                    }
                )
            if options["effects"]:
                data = {
                    "experiment": key,
                    "control": scenario.control.__dict__,
                    "effects": json.loads(options["effects"]),
                    "population": scenario.population,
                    "description": f"Planted effects: {options['effects']}",
                }
                scenario = scenario_from_dict(data)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise CommandError(f"Scenario: {exc}") from exc
        return scenario
