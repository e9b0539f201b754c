"""A dense labeled session shared by the options library's tests: every planted print with the tape around it.

The planted prints are checked against the tape itself (the quote in force, open interest, volume so far),
so a label cannot claim what the events do not show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from connectors.synthetic import PlantedLabel, SyntheticConfig, SyntheticMarket
from connectors.synthetic.planted.truth import (
    RULES,
)
from events.models import EquityQuote, OpenInterest, OptionNbbo, OptionPrint
from events.units import NS_PER_MS, notional_cents

STALE_NS = RULES.nbbo_max_age_ms * NS_PER_MS
GAP_NS = RULES.packet_gap_ms * NS_PER_MS
REPEAT_NS = RULES.repeat_window_ms * NS_PER_MS


@dataclass(frozen=True)
class Library:
    labels: tuple[PlantedLabel, ...]
    prints: dict[str, OptionPrint]
    quote_at: dict[str, OptionNbbo]
    open_interest: dict[str, int]
    volume_before: dict[str, int]
    """Contracts printed on a print's contract before it (the print excluded)."""
    spot_at: dict[str, int]
    """The mid of the underlying's equity quote in force at a print (what the options engine reads)."""

    def prints_of(self, label: PlantedLabel) -> list[OptionPrint]:
        return [self.prints[i] for i in label.print_ids]

    def of(self, scenario: str) -> list[PlantedLabel]:
        return [label for label in self.labels if label.scenario == scenario]


@cache
def library() -> Library:
    """A dense session: a scenario every 2 s per underlying, so every kind is planted several times."""
    market = SyntheticMarket(SyntheticConfig(duration_s=150.0, plant_every_s=2.0))
    prints: dict[str, OptionPrint] = {}
    quote_at: dict[str, OptionNbbo] = {}
    latest: dict[str, OptionNbbo] = {}
    oi: dict[str, int] = {}
    volume: dict[str, int] = defaultdict(int)
    before: dict[str, int] = {}
    mids: dict[str, int] = {}
    spot_at: dict[str, int] = {}
    for event in market.events():
        if isinstance(event, OptionNbbo):
            latest[event.symbol] = event
        elif isinstance(event, OptionPrint):
            prints[event.id] = event
            quote_at[event.id] = latest[event.symbol]
            before[event.id] = volume[event.symbol]
            volume[event.symbol] += event.size_contracts
            spot_at[event.id] = mids[event.underlying]
        elif isinstance(event, EquityQuote):
            mids[event.symbol] = (event.bid_e9 + event.ask_e9) // 2
        elif isinstance(event, OpenInterest):
            oi[event.symbol] = event.open_interest_contracts
    return Library(tuple(market.labels), prints, quote_at, oi, before, spot_at)


def premium(prints: list[OptionPrint]) -> int:
    return sum(notional_cents(p.price_e9, p.size_contracts, p.multiplier) for p in prints)


def at_ask(lib: Library, p: OptionPrint) -> bool:
    return p.price_e9 >= lib.quote_at[p.id].ask_e9


def at_bid(lib: Library, p: OptionPrint) -> bool:
    return p.price_e9 <= lib.quote_at[p.id].bid_e9
