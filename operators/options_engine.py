"""The options engine for one underlying: as-of NBBO join -> packets -> baselines -> classifiers -> alerts,
with structures and flow context over the closed packets.

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
means, for `unusual_volume`; stock-scope baselines are the equities engine's). It keeps the running day and
5-minute volume of every contract itself.

A structure's alert speaks for its legs (BEHAVIOR section 6). Hits are emitted as their packet closes, but the
alert of a packet the structure detector may still pair (flagged, or a possible leg) is held until the detector
decides it: once the watermark passes its last print + `structure_window_ms` + `packet_window_ms` +
`packet_gap_ms` (1.1 s of event time by default; up to a packet window more behind an earlier, longer anchor). It
is then folded into the structure's alert when the packet became a leg, or raised as it would have been. Per
contract, alerts reach the alert book in packet order (an alert waits behind its contract's held ones), and
structure alerts in the detector's decision order, so what each alert absorbs does not depend on how often the
watermark moves (idle wake-ups, end of input), on batching or on workers. Held alerts are always some undecided
packet's, so the detector's next decision keeps `next_due_ns` honest.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, cast

from events.baselines import VolumeBaseline
from events.config import OptionsConfig
from events.models import Alert, AnyEvent, ClassifierHit, FlowContext, OptionPrint, Packet, Structure
from events.symbology import parse_occ
from events.units import NS_PER_S
from operators.alerts import AlertBook
from operators.classifiers import classify_packet, classify_structure
from operators.flow_context import FlowContextTracker
from operators.nbbo_join import NbboJoin
from operators.packet_context import PacketContexts
from operators.packets import PacketClusterer
from operators.structures import Decision, StructureDetector
from operators.tape_engine import QuoteGatedEngine
from operators.underlying_price import UnderlyingPrice
from operators.volume_baselines import NEW_YORK

OptionsOutput = Packet | ClassifierHit | Alert | Structure | FlowContext

EXPIRED_AFTER_NS = 3_600 * NS_PER_S
"""How long after its expiry date ends (New York midnight) a contract's state is dropped, in event time (ns): by
then every packet of it has closed and every alert held for a structure decision has been raised."""


def expired_at_ns(expiry: date) -> int:
    """Return the event time (ns) from which a contract expiring on `expiry` has no state worth keeping."""
    ends = datetime.combine(expiry + timedelta(days=1), time(0), tzinfo=NEW_YORK)
    return int(ends.timestamp()) * NS_PER_S + EXPIRED_AFTER_NS


@dataclass(slots=True)
class _HeldAlert:
    """A packet's hits whose alert waits: for the structure detector's decision, or behind its contract's."""

    packet: Packet
    hits: list[ClassifierHit]
    state: Literal["waiting", "ready", "folded"]


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
        self.underlying = UnderlyingPrice(config.underlying_parity_window_ns, self.join.book)
        self.packets = PacketClusterer(config, self.underlying.for_print)
        self.contexts = PacketContexts(config)
        self.alerts = AlertBook(config)
        self.structures = StructureDetector(config, log_decisions=True)
        self.context = FlowContextTracker(config)
        self._structures_due = -1  # the watermark past which the structure detector has a decision to make
        self._context_due = -1  # the watermark at which flow context is next worth advancing
        self._context_step = config.flow_context_emit_ns
        self._alert_queues: dict[str, deque[_HeldAlert]] = {}
        """Contract -> its packets' alerts not raised yet, in packet order (the head waits for a decision)."""
        self._awaiting: dict[str, _HeldAlert] = {}
        """Packet id -> its held alert, while the structure detector may still pair the packet."""
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
        self._settle(out)
        assert not self._awaiting, "every held packet is decided at end of input"
        assert not self._alert_queues, "every held alert is raised or folded at end of input"
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
        packet context (windows, volumes, open interest, volume baselines, runs); the quote book, the last-price
        and multiplier maps belong to the join and the clusterer and are counted here as they are.
        """
        return {
            **self.contexts.state_counts(),
            "tracked_contracts": len(self._expiry_of),
            "quote_books": len(self.join.book),
            "chain_contracts": self.underlying.contracts,
            "open_packets": self.packets.open_count,
            "pending_prints": self.pending_prints,
            "undecided_packets": self.structures.pending_count,
            "held_alerts": self.held_alerts,
            "open_alerts": len(self.alerts),
        }

    @property
    def held_alerts(self) -> int:
        """Packet alerts held for a structure decision (or behind one on their contract)."""
        return sum(len(q) for q in self._alert_queues.values())

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
            self._settle(out)
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
                if symbol in self._alert_queues:
                    waiting.append(symbol)
                    continue
                del self._expiry_of[symbol]
                self.contexts.forget(symbol)
                self.evicted_contracts += 1
        for symbol in waiting:
            expiry = self._expiry_of.pop(symbol)
            self._track(symbol, expiry)

    def _emit(self, packet: Packet, out: list[OptionsOutput]) -> None:
        ctx, usual_size = self.contexts.on_packet(packet)
        if packet.symbol not in self._expiry_of:
            self._track(packet.symbol, packet.expiry)
        out.append(packet)
        queued: _HeldAlert | None = None
        if ctx is not None:  # it can matter: classify it
            hits = classify_packet(packet, ctx, self.config)
            if hits:
                out.extend(hits)
                queued = self._hold(packet, hits)
        self.structures.on_packet(packet, usual_size)
        self._settle(out)  # a late packet, or a full buffer, is decided at once
        if queued is not None and queued.state == "waiting" and not self.structures.may_pair(packet):
            # It can be no one's leg: its alert only waits for its contract's earlier ones.
            del self._awaiting[packet.id]
            queued.state = "ready"
            self._raise_queued(packet.symbol, out)
        self._structures_due = self.structures.next_decision_ns()
        out.extend(self.context.on_packet(packet))

    def _hold(self, packet: Packet, hits: list[ClassifierHit]) -> _HeldAlert:
        """Queue a packet's alert behind its contract's; it waits for the detector unless it is a copy."""
        pid = packet.id
        # A packet delivered twice is decided once (the detector drops the copy): the copy's alert does not wait.
        held = _HeldAlert(packet, hits, "ready" if pid in self._awaiting else "waiting")
        if held.state == "waiting":
            self._awaiting[pid] = held
        queue = self._alert_queues.get(packet.symbol)
        if queue is None:
            queue = self._alert_queues[packet.symbol] = deque()
        queue.append(held)
        return held

    def _raise_queued(self, symbol: str, out: list[OptionsOutput]) -> None:
        """Raise the contract's queued alerts, in packet order, up to the first still waiting for a decision."""
        queue = self._alert_queues[symbol]
        while queue and queue[0].state != "waiting":
            held = queue.popleft()
            if held.state == "ready":
                alert = self.alerts.on_packet(held.packet, held.hits)
                if alert is not None:
                    out.append(alert)
        if not queue:
            del self._alert_queues[symbol]

    def _settle(self, out: list[OptionsOutput]) -> None:
        """Take the detector's decisions in the order made: emit each structure with its hits and its alert (the
        legs' held alerts folded in), and release the held alerts of packets decided alone."""
        for decision in self.structures.take_decisions():
            self._apply(decision, out)

    def _apply(self, decision: Decision, out: list[OptionsOutput]) -> None:
        structure = decision.structure
        awaiting = self._awaiting
        if (
            structure is None
            and (not awaiting or decision.packet_ids[0] not in awaiting)
            and len(decision.packet_ids) == 1
        ):
            return  # a packet released alone with no alert held: nothing to release
        decided = [held for pid in decision.packet_ids if (held := awaiting.pop(pid, None)) is not None]
        if structure is not None:
            hits = classify_structure(structure, self.config)
            out.append(structure)
            out.extend(hits)
            for held in decided:
                held.state = "folded"
            legs = [(held.packet, held.hits) for held in decided]
            alert = self.alerts.on_structure(structure, hits, legs)
            if alert is not None:
                out.append(alert)
        else:
            for held in decided:
                held.state = "ready"
        for symbol in dict.fromkeys(held.packet.symbol for held in decided):
            self._raise_queued(symbol, out)
