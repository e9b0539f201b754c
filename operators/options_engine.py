"""The options engine for one underlying: as-of NBBO join -> packets -> baselines -> classifiers -> alerts.

A flow keeps one engine per underlying (the partition key) and feeds it that underlying's raw events in
arrival order. Determinism does not depend on how the print and quote topics interleave:

- A print waits until the quote stream of its underlying has passed the print's time (a quote strictly later,
  since several quotes may share a timestamp), or the print carries the provider's NBBO-at-trade, or input
  ends; so the as-of join always sees the same quotes. Quote history is kept back to the print watermark.
- Packets close on a watermark driven by the print stream only (newest print time minus
  `watermark_lag_ms`), which is ordered within its partition.
"""

from __future__ import annotations

from collections import deque

from events.config import OptionsConfig
from events.models import (
    Alert,
    AnyEvent,
    ClassifierHit,
    OpenInterest,
    OptionDefinition,
    OptionNbbo,
    OptionPrint,
    Packet,
)
from operators.alerts import AlertBook
from operators.baselines import KeyedBaselines
from operators.classifiers import PacketContext, classify_packet
from operators.nbbo_join import NbboJoin
from operators.packets import PacketClusterer

OptionsOutput = Packet | ClassifierHit | Alert

MAX_PENDING_PRINTS = 100_000
"""Prints held for the quote stream at most; past it the oldest is joined at once (a feed without quotes)."""


class OptionsEngine:
    """Keyed state machine for one underlying's options tape."""

    def __init__(self, config: OptionsConfig) -> None:
        self.config = config
        self.join = NbboJoin(config.nbbo_max_age_ns, config.at_side_band)
        self.packets = PacketClusterer(config)
        self.baselines = KeyedBaselines(config.rolling_window, config.z_min_samples)
        self.alerts = AlertBook(config)
        self.open_interest: dict[str, int] = {}
        self._pending: deque[OptionPrint] = deque()
        self._quote_wm = -1
        self._print_wm = -1
        self.late_prints = 0
        self.events_in = 0

    # ------------------------------------------------------------------------------------ inputs

    def on_event(self, event: AnyEvent) -> list[OptionsOutput]:
        """Consume one raw event; return the derived events it closed, in order."""
        self.events_in += 1
        if isinstance(event, OptionPrint):
            return self._on_print(event)
        if isinstance(event, OptionNbbo):
            return self._on_quote(event)
        if isinstance(event, OptionDefinition):
            self.packets.set_multiplier(event.symbol, event.multiplier)
        elif isinstance(event, OpenInterest):
            self.open_interest[event.symbol] = event.open_interest_contracts
        return []

    def on_events(self, events: list[AnyEvent]) -> list[OptionsOutput]:
        """Consume a batch of raw events in order."""
        out: list[OptionsOutput] = []
        for event in events:
            out.extend(self.on_event(event))
        return out

    def on_eof(self) -> list[OptionsOutput]:
        """End of input: join every waiting print and close every open packet."""
        out: list[OptionsOutput] = []
        while self._pending:
            out.extend(self._process(self._pending.popleft()))
        for packet in self.packets.flush():
            out.extend(self._emit(packet))
        return out

    @property
    def pending_prints(self) -> int:
        return len(self._pending)

    # ---------------------------------------------------------------------------------- internals

    def _on_quote(self, quote: OptionNbbo) -> list[OptionsOutput]:
        self.join.on_quote(quote, keep_from=self._print_wm - self.config.watermark_lag_ns)
        if quote.ts_event > self._quote_wm:
            self._quote_wm = quote.ts_event
        return self._release()

    def _on_print(self, trade: OptionPrint) -> list[OptionsOutput]:
        if not self._pending and (trade.nbbo_ask_e9 is not None or trade.ts_event < self._quote_wm):
            return self._process(trade)
        self._pending.append(trade)
        if len(self._pending) > MAX_PENDING_PRINTS:
            return self._process(self._pending.popleft())
        return self._release()

    def _release(self) -> list[OptionsOutput]:
        out: list[OptionsOutput] = []
        pending = self._pending
        while pending and (pending[0].ts_event < self._quote_wm or pending[0].nbbo_ask_e9 is not None):
            out.extend(self._process(pending.popleft()))
        return out

    def _process(self, trade: OptionPrint) -> list[OptionsOutput]:
        watermark = self._print_wm - self.config.watermark_lag_ns
        late = trade.ts_event < watermark
        self.late_prints += late
        placed = self.join.on_print(trade, late=late)
        closed = self.packets.add(placed)
        if trade.ts_event > self._print_wm:
            self._print_wm = trade.ts_event
            closed.extend(self.packets.advance(self._print_wm - self.config.watermark_lag_ns))
        out: list[OptionsOutput] = []
        for packet in closed:
            out.extend(self._emit(packet))
        return out

    def _emit(self, packet: Packet) -> list[OptionsOutput]:
        premium = float(packet.premium_cents)
        z_contract = self.baselines.observe(packet.symbol, "premium", premium)
        z_underlying = self.baselines.observe(packet.underlying, "premium", premium)
        size_z = self.baselines.observe(packet.symbol, "size", float(packet.size_contracts))
        ctx = PacketContext(premium_z=z_contract if z_contract is not None else z_underlying, size_z=size_z)
        hits = classify_packet(packet, ctx, self.config)
        out: list[OptionsOutput] = [packet, *hits]
        alert = self.alerts.on_packet(packet, hits)
        if alert is not None:
            out.append(alert)
        return out
