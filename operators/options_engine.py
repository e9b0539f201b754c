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
from collections.abc import Iterable

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
        self._lag_ns = config.watermark_lag_ns
        self._pending: deque[OptionPrint] = deque()
        self._quote_wm = -1
        self._print_wm = -1
        self.late_prints = 0
        self.events_in = 0

    # ------------------------------------------------------------------------------------ inputs

    def on_event(self, event: AnyEvent) -> list[OptionsOutput]:
        """Consume one raw event; return the derived events it closed, in order."""
        out: list[OptionsOutput] = []
        self._consume((event,), out)
        return out

    def on_events(self, events: Iterable[AnyEvent]) -> list[OptionsOutput]:
        """Consume a batch of raw events in order."""
        out: list[OptionsOutput] = []
        self._consume(events, out)
        return out

    def on_eof(self) -> list[OptionsOutput]:
        """End of input: join every waiting print and close every open packet."""
        out: list[OptionsOutput] = []
        while self._pending:
            self._process(self._pending.popleft(), out)
        for packet in self.packets.flush():
            self._emit(packet, out)
        return out

    @property
    def pending_prints(self) -> int:
        return len(self._pending)

    # ---------------------------------------------------------------------------------- internals

    def _consume(self, events: Iterable[AnyEvent], out: list[OptionsOutput]) -> None:
        # Dispatch on the `event_type` literal (one string compare for the common cases, quotes first: they
        # outnumber prints several times over) instead of an isinstance chain per event.
        update_book = self.join.book.update
        pending = self._pending
        count = 0
        for event in events:
            count += 1
            event_type = event.event_type
            if event_type == "option_nbbo":
                assert isinstance(event, OptionNbbo)
                update_book(event, self._print_wm - self._lag_ns)
                if event.ts_event > self._quote_wm:
                    self._quote_wm = event.ts_event
                if pending:
                    self._release(out)
            elif event_type == "option_print":
                assert isinstance(event, OptionPrint)
                if not pending and (event.nbbo_ask_e9 is not None or event.ts_event < self._quote_wm):
                    self._process(event, out)
                else:
                    pending.append(event)
                    if len(pending) > MAX_PENDING_PRINTS:
                        self._process(pending.popleft(), out)
                    else:
                        self._release(out)
            elif event_type == "option_definition":
                assert isinstance(event, OptionDefinition)
                self.packets.set_multiplier(event.symbol, event.multiplier)
            elif event_type == "open_interest":
                assert isinstance(event, OpenInterest)
                self.open_interest[event.symbol] = event.open_interest_contracts
        self.events_in += count

    def _release(self, out: list[OptionsOutput]) -> None:
        pending = self._pending
        while pending and (pending[0].ts_event < self._quote_wm or pending[0].nbbo_ask_e9 is not None):
            self._process(pending.popleft(), out)

    def _process(self, trade: OptionPrint, out: list[OptionsOutput]) -> None:
        watermark = self._print_wm - self._lag_ns
        late = trade.ts_event < watermark
        self.late_prints += late
        closed = self.packets.add(self.join.on_print(trade, late=late))
        if trade.ts_event > self._print_wm:
            self._print_wm = trade.ts_event
            closed.extend(self.packets.advance(self._print_wm - self._lag_ns))
        for packet in closed:
            self._emit(packet, out)

    def _emit(self, packet: Packet, out: list[OptionsOutput]) -> None:
        baselines = self.baselines
        premium = float(packet.premium_cents)
        z_contract = baselines.observe(packet.symbol, "premium", premium)
        if z_contract is None:
            premium_z = baselines.observe(packet.underlying, "premium", premium)
        else:
            # The underlying's z is only the fallback: add the value without the O(window) pass.
            premium_z = z_contract
            baselines.add(packet.underlying, "premium", premium)
        size_z = baselines.observe(packet.symbol, "size", float(packet.size_contracts))
        hits = classify_packet(packet, PacketContext(premium_z=premium_z, size_z=size_z), self.config)
        out.append(packet)
        if hits:
            out.extend(hits)
            alert = self.alerts.on_packet(packet, hits)
            if alert is not None:
                out.append(alert)
