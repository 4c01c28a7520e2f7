"""The Django admin for the control plane: every write goes through the same services as the API.

Saving a form calls the service (create, update, delete); a refusal re-shows the form with the
service's messages and saves nothing. Lifecycle changes are admin actions; conclude has its own
page whose winner choices are the experiment's variants. Status, salt, phase, decision and
winner are never edited directly.
"""

from . import data_sources, library
from .experiments import ExperimentAdmin, ExperimentAdminForm

__all__ = ["ExperimentAdmin", "ExperimentAdminForm", "data_sources", "library"]
