"""Alerts held for the structure detector's decisions (BEHAVIOR section 6: a structure's alert speaks for its legs).

Hits are emitted as their packet closes, but the alert of a packet the detector may still pair (flagged, or a
possible leg) is held until the detector decides it: then it is folded into the structure's alert when the packet
became a leg, or raised as it would have been. Per contract, alerts reach the alert book in packet order (an alert
waits behind its contract's held ones), and structure alerts in the detector's decision order, so what each alert
absorbs does not depend on how often the watermark moves, on batching or on workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from events.config import OptionsConfig
from events.models import Alert, ClassifierHit, Packet, Structure
from operators.alerts import AlertBook
from operators.classifiers import classify_structure
from operators.structures import Decision

HeldOutput = Alert | Structure | ClassifierHit


@dataclass(slots=True)
class _HeldAlert:
    """A packet's hits whose alert waits: for the structure detector's decision, or behind its contract's."""

    packet: Packet
    hits: list[ClassifierHit]
    state: Literal["waiting", "ready", "folded"]


class HeldAlerts:
    """Keyed state machine between the classifiers, the structure detector and the alert book.

    `hold` a packet's hits, then `apply` the detector's decisions in the order made, and `release` a held packet
    the detector says it can no longer pair; both return what becomes due (structures with their hits, alerts).
    """

    __slots__ = ("_awaiting", "_config", "_queues", "alerts")

    def __init__(self, config: OptionsConfig, alerts: AlertBook) -> None:
        self._config = config
        self.alerts = alerts
        self._queues: dict[str, deque[_HeldAlert]] = {}
        """Contract -> its packets' alerts not raised yet, in packet order (the head waits for a decision)."""
        self._awaiting: dict[str, _HeldAlert] = {}
        """Packet id -> its held alert, while the structure detector may still pair the packet."""

    def __len__(self) -> int:
        """Return the packet alerts held (for a decision, or behind one on their contract)."""
        return sum(len(q) for q in self._queues.values())

    def holds(self, symbol: str) -> bool:
        """Return whether an alert of the contract `symbol` is held."""
        return symbol in self._queues

    def hold(self, packet: Packet, hits: list[ClassifierHit]) -> bool:
        """Queue a packet's alert behind its contract's; return whether it waits for the detector (it does unless
        it is a copy of a packet already waiting)."""
        pid = packet.id
        # A packet delivered twice is decided once (the detector drops the copy): the copy's alert does not wait.
        held = _HeldAlert(packet, hits, "ready" if pid in self._awaiting else "waiting")
        if held.state == "waiting":
            self._awaiting[pid] = held
        queue = self._queues.get(packet.symbol)
        if queue is None:
            queue = self._queues[packet.symbol] = deque()
        queue.append(held)
        return held.state == "waiting"

    def release(self, packet: Packet) -> list[HeldOutput]:
        """The packet, whose alert `hold` said waits, can be no one's leg (the detector says so): its alert now only
        waits for its contract's earlier ones. A packet the detector has decided meanwhile (a late packet, or a
        full buffer, is decided as it arrives) is already released or folded: nothing to do."""
        held = self._awaiting.pop(packet.id, None)
        if held is None:
            return []
        held.state = "ready"
        out: list[HeldOutput] = []
        self._raise_queued(packet.symbol, out)
        return out

    def apply(self, decisions: Iterable[Decision]) -> list[HeldOutput]:
        """Take the detector's decisions in the order made: emit each structure with its hits and its alert (the
        legs' held alerts folded in), and release the held alerts of packets decided alone."""
        out: list[HeldOutput] = []
        for decision in decisions:
            self._apply(decision, out)
        return out

    def assert_empty(self) -> None:
        """Fail unless every held alert was raised or folded (end of input, after the detector's flush)."""
        assert not self._awaiting, "every held packet is decided at end of input"
        assert not self._queues, "every held alert is raised or folded at end of input"

    def _apply(self, decision: Decision, out: list[HeldOutput]) -> None:
        structure = decision.structure
        awaiting = self._awaiting
        ids = decision.packet_ids
        if structure is None and len(ids) == 1 and ids[0] not in awaiting:
            return  # a packet released alone with no alert held: nothing to release
        decided = [held for pid in ids if (held := awaiting.pop(pid, None)) is not None]
        if structure is not None:
            hits = classify_structure(structure, self._config)
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

    def _raise_queued(self, symbol: str, out: list[HeldOutput]) -> None:
        """Raise the contract's queued alerts, in packet order, up to the first still waiting for a decision."""
        queue = self._queues[symbol]
        while queue and queue[0].state != "waiting":
            held = queue.popleft()
            if held.state == "ready":
                alert = self.alerts.on_packet(held.packet, held.hits)
                if alert is not None:
                    out.append(alert)
        if not queue:
            del self._queues[symbol]
