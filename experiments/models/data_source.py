from django.db import models
from django.utils.translation import gettext_lazy as _


class DataSourceKind(models.TextChoices):
    BUILTIN = "builtin", _("Built-in (application database)")
    SPARK = "spark", _("Apache Spark")


class DataSource(models.Model):
    """Where an experiment's exposures and events are read from (docs/warehouse.md).

    ``builtin`` reads the application database (what an experiment with no data source does);
    ``spark`` reads two relations, each a table name or a SQL ``SELECT``, through a Spark
    session (``session_url``). The column maps translate the logical columns of
    ``core.warehouse_columns`` to the physical ones. ``options`` is Spark configuration and may
    hold secrets: it is stored as given and never shown back or logged (readers see its names).
    ``segments`` lists the exposure attribute keys a ``spark`` source's reports show as
    segments; no other attribute value leaves Spark (``experiments.data_source_rules``).
    """

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=DataSourceKind.choices, default=DataSourceKind.BUILTIN
    )
    session_url = models.CharField(
        _("session URL"),
        max_length=1000,
        blank=True,
        help_text=_("local[*], spark://host:7077, sc://host:15002 (Spark Connect) or yarn."),
    )
    exposures = models.TextField(
        _("exposures"), blank=True, help_text=_("A table name or a SQL SELECT.")
    )
    events = models.TextField(_("events"), blank=True, help_text=_("A table name or a SQL SELECT."))
    exposure_columns = models.JSONField(_("exposure columns"), default=dict, blank=True)
    event_columns = models.JSONField(_("event columns"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    segments = models.JSONField(
        _("segments"),
        default=list,
        blank=True,
        help_text=_(
            "The exposure attribute keys reports break results down by; other attribute "
            "values are never read out of Spark."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:  # options may hold secrets
        return f"<DataSource {self.key} ({self.kind})>"
