"""Planted, labeled flow: the scenario libraries of the synthetic market and their ground truth."""

from connectors.synthetic.planted.equities import PlannedEquity, PlannedEquityQuote
from connectors.synthetic.planted.equity_desk import NEVER, EquityDesk
from connectors.synthetic.planted.equity_truth import (
    DARK_CLASSIFIERS,
    DARK_HARD_NEGATIVES,
    DARK_SCENARIOS,
    DARK_SIDE_MAX_SHARES,
    CandleLabel,
    DarkLabel,
)
from connectors.synthetic.planted.library import FIRST_SCENARIO, HARD_NEGATIVES, SCENARIOS, ScenarioName
from connectors.synthetic.planted.planners import plan_scenario
from connectors.synthetic.planted.script import Plan, Scheduled, ScheduledPrint, ScheduledQuote
from connectors.synthetic.planted.structures import STRUCTURE_QUIET_NS
from connectors.synthetic.planted.truth import PACKET_CLASSIFIERS, STRUCTURE_CLASSIFIERS, PlantedLabel

__all__ = [
    "DARK_CLASSIFIERS",
    "DARK_HARD_NEGATIVES",
    "DARK_SCENARIOS",
    "DARK_SIDE_MAX_SHARES",
    "FIRST_SCENARIO",
    "HARD_NEGATIVES",
    "NEVER",
    "PACKET_CLASSIFIERS",
    "SCENARIOS",
    "STRUCTURE_CLASSIFIERS",
    "STRUCTURE_QUIET_NS",
    "CandleLabel",
    "DarkLabel",
    "EquityDesk",
    "Plan",
    "PlannedEquity",
    "PlannedEquityQuote",
    "PlantedLabel",
    "ScenarioName",
    "Scheduled",
    "ScheduledPrint",
    "ScheduledQuote",
    "plan_scenario",
]
