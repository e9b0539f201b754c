"""Planted, labeled flow: the scenario libraries of the synthetic market and their ground truth."""

from connectors.synthetic.planted.equities import (
    DARK_CLASSIFIERS,
    DARK_HARD_NEGATIVES,
    DARK_SCENARIOS,
    DARK_SIDE_MAX_SHARES,
    NEVER,
    CandleLabel,
    DarkLabel,
    EquityDesk,
    PlannedEquity,
    PlannedEquityQuote,
)
from connectors.synthetic.planted.options import (
    FIRST_SCENARIO,
    HARD_NEGATIVES,
    PACKET_CLASSIFIERS,
    SCENARIOS,
    STRUCTURE_CLASSIFIERS,
    PlantedLabel,
    ScenarioName,
    Scheduled,
    ScheduledQuote,
    plan_scenario,
)

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
    "CandleLabel",
    "DarkLabel",
    "EquityDesk",
    "PlannedEquity",
    "PlannedEquityQuote",
    "PlantedLabel",
    "ScenarioName",
    "Scheduled",
    "ScheduledQuote",
    "plan_scenario",
]
