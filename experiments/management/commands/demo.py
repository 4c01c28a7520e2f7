from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.actors import Actor
from experiments.demo import EXPERIMENTS, METRICS
from experiments.models import Experiment, ExperimentStatus, Metric
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from experiments.services.metrics import metric_create

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Load demo definitions (metrics and three experiments) and a demo admin login. Idempotent."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        password = settings.VERDICT_DEMO_PASSWORD
        User = get_user_model()  # noqa: N806
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        actor = Actor(label=user.get_username(), user=user)
        for data in METRICS:
            if not Metric.objects.filter(key=data["key"]).exists():
                metric_create(actor=actor, data=data)
        for data in EXPERIMENTS:
            definition = {k: v for k, v in data.items() if k != "start"}
            experiment = Experiment.objects.filter(key=data["key"]).first()
            if experiment is None:
                experiment = experiment_create(actor=actor, data=definition)
            if data["start"] and experiment.status == ExperimentStatus.DRAFT:
                experiment_transition(actor=actor, experiment=experiment, action="start")
        self.stdout.write(
            f"Demo data loaded: {len(METRICS)} metrics, {len(EXPERIMENTS)} experiments."
        )
        if created:
            self.stdout.write(
                f"Demo admin login: username '{DEMO_USERNAME}', password '{password}'"
            )
        else:
            self.stdout.write(
                f"Demo admin login: username '{DEMO_USERNAME}' (password unchanged; "
                f"it was '{password}' when first created)"
            )
