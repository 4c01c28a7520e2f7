from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        # The dev server with no broker runs a worker and beat in-process (embedded_worker.py).
        from analysis.embedded_worker import embedded_worker_autostart

        embedded_worker_autostart()
