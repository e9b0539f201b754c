"""A deterministic, seeded synthetic market: the embedded default source and the ground truth for tests."""

from connectors.synthetic.market import SyntheticConfig, SyntheticMarket
from connectors.synthetic.pacing import iter_paced
from connectors.synthetic.planted import PlantedLabel

__all__ = ["PlantedLabel", "SyntheticConfig", "SyntheticMarket", "iter_paced"]
