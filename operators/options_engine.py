"""The options engine for one underlying: it wires the operators, in one pipeline per print and per packet.

Per print: as-of NBBO join and placement (`nbbo_join`), the underlying's price (`underlying_price`), clustering
into packets (`packets`). Per closed packet (`_emit`): its context (`packet_context`: rolling windows, volumes,
open interest, repeated-hit runs; built only for packets that can matter), the packet classifiers
(`classifiers`), the alert held for the structure detector's decision (`held_alerts`, which also runs the
structure classifiers and the alert book on each decision), the structure detector (`structures`) and flow
context (`flow_context`). Per watermark move: packets close, structures are decided, flow context advances,
expired contracts are dropped. Every operator is a keyed state machine fed in that order; the engine holds no
rule of its own.

A flow keeps one engine per underlying (the partition key) and feeds it that underlying's raw events in
arrival order. Determinism does not depend on how the print and quote topics interleave:

- A print waits until the quote stream of its underlying has passed the print's time (a quote strictly later,
  since several quotes may share a timestamp), or the print carries the provider's NBBO-at-trade, or input
  ends; so the as-of join always sees the same quotes. Quote history is kept back to the print watermark.
- The underlying's equity quotes (`equity_quote`, same partition key) are a second quote stream: they fill the
  underlying price book (`operators.underlying_price`), and once the engine has seen one, prints wait for that
  stream too (`QuoteGatedEngine`), so each packet's underlying price, taken as of the print that opened it, does
  not depend on how the topics interleave. Without equity quotes the price is implied by put-call parity from the
  option quotes the engine holds and the quotes carried on prints.
- Packets close on a watermark driven by the print stream only (newest print time minus
  `watermark_lag_ms`), which is ordered within its partition. Structures and flow context follow the same
  watermark.

Besides prints and quotes the engine reads reference data as events: option definitions (multipliers), open
interest (volume/OI, size/OI) and `VolumeBaseline`s of option contracts (the daily job's 5-minute bucket
means, for `unusual_volume`; stock-scope baselines are the equities engine's).

A packet's alert waits for the structure detector's decision (see `operators.held_alerts`) once the watermark
passes its last print + `structure_window_ms` + `packet_window_ms` + `packet_gap_ms` (1.1 s of event time by
default; up to a packet window more behind an earlier, longer anchor). Held alerts are always some undecided
packet's, so the detector's next decision keeps `next_due_ns` honest.

State stays bounded: a contract's packet context, last price and multiplier are dropped `EXPIRED_AFTER_NS` after
its expiry date ends (event time), once no alert of it is held, and its quotes when the New York date turns past its
expiry; `state_counts` reports every keyed map.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from events.baselines import VolumeBaseline
from events.calendar import NEW_YORK
from events.config import OptionsConfig
from events.models import Alert, AnyEvent, ClassifierHit, FlowContext, OptionPrint, Packet, Structure
from events.symbology import parse_occ
from events.units import NS_PER_S
from operators.alerts import AlertBook
from operators.classifiers import classify_packet
from operators.flow_context import FlowContextTracker
from operators.held_alerts import HeldAlerts
from operators.nbbo_join import NbboJoin
from operators.packet_context import PacketContexts
from operators.packets import PacketClusterer
from operators.structures import StructureDetector
from operators.tape_engine import QuoteGatedEngine
from operators.underlying_price import UnderlyingPrice

OptionsOutput = Packet | ClassifierHit | Alert | Structure | FlowContext

EXPIRED_AFTER_NS = 3_600 * NS_PER_S
"""How long after its expiry date ends (New York midnight) a contract's state is dropped, in event time (ns): by
then every packet of it has closed and every alert held for a structure decision has been raised."""


NEVER_EXPIRES_NS = 2**63 - 1


def expired_at_ns(expiry: date) -> int:
    """Return the event time (ns) from which a contract expiring on `expiry` has no state worth keeping."""
    if expiry >= date.max:
        return NEVER_EXPIRES_NS
    ends = datetime.combine(expiry + timedelta(days=1), time(0), tzinfo=NEW_YORK)
    return int(ends.timestamp()) * NS_PER_S + EXPIRED_AFTER_NS


class OptionsEngine(QuoteGatedEngine[OptionPrint, OptionsOutput]):
    """Keyed state machine for one underlying's options tape."""

    QUOTE_TYPE = "option_nbbo"
    PRINT_TYPE = "option_print"
    QUOTE_AT_TRADE = "nbbo_ask_e9"
    SECOND_QUOTE_TYPE = "equity_quote"

    def __init__(self, config: OptionsConfig) -> None:
        super().__init__(config.watermark_lag_ns)
        self.config = config
        self.join = NbboJoin(config.nbbo_max_age_ns, config.at_side_band)
        self.underlying = UnderlyingPrice(
            config.underlying_parity_window_ns, self.join.book, on_expired=self._forget_quoted
        )
        self.packets = PacketClusterer(config, self.underlying.for_print)
        self.contexts = PacketContexts(config)
        self.alerts = AlertBook(config)
        self.held = HeldAlerts(config, self.alerts)
        self.structures = StructureDetector(config, log_decisions=True)
        self.context = FlowContextTracker(config)
        self._structures_due = -1  # the watermark past which the structure detector has a decision to make
        self._context_due = -1  # the watermark at which flow context is next worth advancing
        self._context_step = config.flow_context_emit_ns
        self._expiry_of: dict[str, date] = {}
        """Contract -> its expiry, for every contract with state here (what eviction walks)."""
        self._expiring: dict[date, list[str]] = {}
        self._expiry_heap: list[tuple[int, date]] = []  # (expired_at_ns, expiry) of the dates in `_expiring`
        self.late_prints = 0
        self.evicted_contracts = 0

    # ------------------------------------------------------------------------------------ inputs

    def on_eof(self) -> list[OptionsOutput]:
        """End of input: join every waiting print and close every open packet."""
        out: list[OptionsOutput] = []
        self._drain(out)
        for packet in self.packets.flush():
            self._emit(packet, out)
        self.structures.flush()
        out.extend(self.held.apply(self.structures.take_decisions()))
        self.held.assert_empty()
        out.extend(self.context.flush())
        return out

    @property
    def open_interest(self) -> dict[str, int]:
        """Contract symbol -> prior-day open interest."""
        return self.contexts.open_interest

    @property
    def volume_baselines(self) -> dict[str, VolumeBaseline]:
        """Contract symbol -> its historical volume baseline (underlying-scope baselines are kept too)."""
        return self.contexts.volume_baselines

    def state_counts(self) -> dict[str, int]:
        """Return the size of every keyed map the engine holds (entries), to watch that state stays bounded.

        Expired contracts are dropped `EXPIRED_AFTER_NS` after their expiry date ends, in event time, from the
        packet context (windows, volumes, open interest, volume baselines, runs), the join's last prices and the
        clusterer's multipliers; their quotes and chain entries go when the New York date turns past their expiry
        (`UnderlyingPrice`). Flow context holds its windows' entries, the older ones merged into steps
        (`FLOWTAPE_FLOW_CONTEXT_STEP_MS`).
        """
        return {
            **self.contexts.state_counts(),
            "tracked_contracts": len(self._expiry_of),
            "quote_books": len(self.join.book),
            "chain_contracts": self.underlying.contracts,
            "last_prices": self.join.priced_contracts,
            "multipliers": self.packets.multiplier_count,
            "open_packets": self.packets.open_count,
            "pending_prints": self.pending_prints,
            "undecided_packets": self.structures.pending_count,
            "decided_packet_ids": self.structures.decided_count,
            "flow_context_entries": self.context.entry_count(),
            "held_alerts": self.held_alerts,
            "open_alerts": len(self.alerts),
        }

    @property
    def held_alerts(self) -> int:
        """Packet alerts held for a structure decision (or behind one on their contract)."""
        return len(self.held)

    # ---------------------------------------------------------------------------------- internals

    def _next_due_ns(self) -> int | None:
        lag = self._lag_ns
        dues: list[int] = []
        deadline = self.packets.next_deadline_ns()
        if deadline is not None:
            dues.append(deadline + lag + 1)  # a packet closes once the watermark is past its deadline
        if self._structures_due >= 0:
            dues.append(self._structures_due + lag + 1)
        change = self.context.next_change_ns()
        if change is not None:
            dues.append(max(change, self._context_due) + lag)
        return min(dues) if dues else None

    def _on_watermark(self, out: list[OptionsOutput]) -> None:
        for packet in self.packets.advance(self._keep_from):
            self._emit(packet, out)
        self._advance(self._keep_from, out)

    def _quote_updater(self) -> Callable[[dict[str, Any], int], None]:
        return self.join.book.update_fields

    def _second_quote_updater(self) -> Callable[[dict[str, Any], int], None]:
        return self.underlying.on_equity_quote_fields

    def _reference(self, event_type: str, event: AnyEvent) -> None:
        fields = event.__dict__
        if event_type == "option_definition":
            self.packets.set_multiplier(fields["symbol"], fields["multiplier"])
            self.underlying.add_contract(
                fields["symbol"], fields["underlying"], fields["root"], fields["expiry"], fields["right"],
                fields["strike_e9"],
            )  # fmt: skip
        elif event_type == "open_interest":
            symbol = fields["symbol"]
            self.contexts.open_interest[symbol] = fields["open_interest_contracts"]
            self._track(symbol, parse_occ(symbol).expiry)
        elif event_type == "volume_baseline" and fields["scope"] != "equity":  # equity: the stock's shares
            subject = fields["subject"]
            self.contexts.volume_baselines[subject] = cast(VolumeBaseline, event)
            if fields["scope"] == "contract":
                self._track(subject, parse_occ(subject).expiry)

    def _process(self, trade: OptionPrint, out: list[OptionsOutput]) -> None:
        ts = trade.__dict__["ts_event"]
        late = ts < self._keep_from
        self.late_prints += late
        self.underlying.on_print_fields(trade.__dict__)  # its contract and quote count for the price it asks
        closed = self.packets.add(self.join.on_print(trade, late))
        advanced = ts > self._print_wm
        if advanced:
            self._print_wm = ts
            self._keep_from = ts - self._lag_ns
            closed.extend(self.packets.advance(self._keep_from))
        for packet in closed:
            self._emit(packet, out)
        if advanced:
            self._advance(self._keep_from, out)

    def _advance(self, watermark: int, out: list[OptionsOutput]) -> None:
        """Move structures and flow context to the packet watermark, only when either has something to do."""
        if 0 <= self._structures_due < watermark:
            self.structures.advance(watermark)
            out.extend(self.held.apply(self.structures.take_decisions()))
            self._structures_due = self.structures.next_decision_ns()
        if watermark >= self._context_due:
            out.extend(self.context.advance(watermark))
            self._context_due = watermark + self._context_step
        heap = self._expiry_heap
        if heap and heap[0][0] <= watermark:
            self._evict(watermark)

    def _track(self, symbol: str, expiry: date) -> None:
        """Note a contract that has state here, under its expiry date."""
        if symbol in self._expiry_of:
            return
        self._expiry_of[symbol] = expiry
        symbols = self._expiring.get(expiry)
        if symbols is None:
            symbols = self._expiring[expiry] = []
            heapq.heappush(self._expiry_heap, (expired_at_ns(expiry), expiry))
        symbols.append(symbol)

    def _evict(self, watermark: int) -> None:
        """Drop the state of every contract expired by `watermark` (event time); one with an alert still held waits
        for the next pass."""
        heap = self._expiry_heap
        waiting: list[str] = []
        while heap and heap[0][0] <= watermark:
            _, expiry = heapq.heappop(heap)
            for symbol in self._expiring.pop(expiry):
                if self.held.holds(symbol):
                    waiting.append(symbol)
                    continue
                del self._expiry_of[symbol]
                self.contexts.forget(symbol)
                self.evicted_contracts += 1
        for symbol in waiting:
            expiry = self._expiry_of.pop(symbol)
            self._track(symbol, expiry)

    def _forget_quoted(self, symbol: str) -> None:
        """Drop what the join and the clusterer hold of a contract `UnderlyingPrice` dropped as expired when the
        New York date turned (it dropped the contract's quotes): its last price and multiplier."""
        self.join.forget(symbol)
        self.packets.forget(symbol)

    def _emit(self, packet: Packet, out: list[OptionsOutput]) -> None:
        """The per-packet pipeline: context, classifiers, held alert, structure detector, flow context."""
        ctx, usual_size = self.contexts.on_packet(packet)
        if packet.symbol not in self._expiry_of:
            self._track(packet.symbol, packet.expiry)
        out.append(packet)
        waiting = False
        if ctx is not None:  # it can matter: classify it
            hits = classify_packet(packet, ctx, self.config)
            if hits:
                out.extend(hits)
                waiting = self.held.hold(packet, hits)
        self.structures.on_packet(packet, usual_size)
        decisions = self.structures.take_decisions()  # a late packet, or a full buffer, is decided at once
        if decisions:
            out.extend(self.held.apply(decisions))
        if waiting and not self.structures.may_pair(packet):
            out.extend(self.held.release(packet))
        self._structures_due = self.structures.next_decision_ns()
        out.extend(self.context.on_packet(packet))
