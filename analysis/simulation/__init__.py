"""A traffic simulator: users with attributes, planted true effects per variant, real services.

``simulate`` drives the assignment and event services (or the HTTP API); ``truth_rows`` puts
each planted effect beside Verdict's estimate. Scenarios are plain data (``scenarios.py``);
users' behaviour is pure (``traffic.py``). See docs/simulation.md.
"""

from .report import TruthRow, truth_rows, truth_table
from .runner import SimulationResult, simulate
from .scenarios import SCENARIOS, Behaviour, Scenario, scenario_from_dict, scenario_load

__all__ = [
    "SCENARIOS",
    "Behaviour",
    "Scenario",
    "SimulationResult",
    "TruthRow",
    "scenario_from_dict",
    "scenario_load",
    "simulate",
    "truth_rows",
    "truth_table",
]
