"""Repeated hits (BEHAVIOR section 3): the same contract hit on the same side again and again.

A detector on closed packets: `RepeatedHits.step(packet)` returns the run the packet belongs to once the
contract has at least `repeat_min_packets` packets on the packet's side within `repeat_window_ms` (first to
last packet's `ts_event`), else None. Packets with an unknown aggressor side, under
`repeat_min_packet_premium_usd` or under `repeat_min_packet_contracts` (a single lot of a deep in-the-money option
carries $10k and is no hit a trader watches), neither count nor reset a run. The run notes whether fill prices (packet
VWAPs, in time order) rose, fell, stayed flat or went both ways.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from events.config import OptionsConfig
from events.models import Packet
from events.units import CENTS_PER_USD, NS_PER_MS

RunSide = Literal["buy", "sell"]
PriceTrend = Literal["rising", "falling", "flat", "mixed"]

EXPIRE_EVERY = 4096
"""Steps between sweeps of contracts that went quiet (memory stays bounded by the active contracts)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    ts_event: int
    packet_id: str
    print_ids: tuple[str, ...]
    size_contracts: int
    premium_cents: int
    vwap_e9: int


@dataclass(frozen=True, slots=True)
class RepeatRun:
    """Same-side packets on one contract within the window, oldest first, ending with the current packet."""

    symbol: str
    side: RunSide
    ts_first: int
    ts_last: int
    packet_ids: tuple[str, ...]
    print_ids: tuple[str, ...]
    size_contracts: int
    premium_cents: int
    vwaps_e9: tuple[int, ...]
    price_trend: PriceTrend

    @property
    def count(self) -> int:
        """Return the number of packets in the run."""
        return len(self.packet_ids)

    @property
    def span_ns(self) -> int:
        """Return the time from the first to the last packet of the run, in ns."""
        return self.ts_last - self.ts_first


def price_trend(vwaps_e9: tuple[int, ...]) -> PriceTrend:
    """Return how fill prices moved: never down and up overall (rising), the reverse (falling), flat or mixed."""
    return _trend(any(b > a for a, b in pairwise(vwaps_e9)), any(b < a for a, b in pairwise(vwaps_e9)))


@dataclass(slots=True)
class _Recent:
    """A (contract, side)'s counted packets within the window, oldest first, with their running aggregates: sizes,
    premiums, and how many consecutive VWAP pairs go up and down (so a run's trend costs no pass over it)."""

    entries: deque[_Entry]
    size_contracts: int = 0
    premium_cents: int = 0
    ups: int = 0
    downs: int = 0

    def append(self, entry: _Entry) -> None:
        if self.entries:
            last = self.entries[-1].vwap_e9
            self.ups += entry.vwap_e9 > last
            self.downs += entry.vwap_e9 < last
        self.entries.append(entry)
        self.size_contracts += entry.size_contracts
        self.premium_cents += entry.premium_cents

    def popleft(self) -> None:
        gone = self.entries.popleft()
        if self.entries:
            head = self.entries[0].vwap_e9
            self.ups -= head > gone.vwap_e9
            self.downs -= head < gone.vwap_e9
        self.size_contracts -= gone.size_contracts
        self.premium_cents -= gone.premium_cents

    def rebuild(self, entries: list[_Entry]) -> None:
        self.entries.clear()
        self.size_contracts = self.premium_cents = self.ups = self.downs = 0
        for entry in entries:
            self.append(entry)


def _trend(ups: bool, downs: bool) -> PriceTrend:
    if ups and downs:
        return "mixed"
    if ups:
        return "rising"
    if downs:
        return "falling"
    return "flat"


class RepeatedHits:
    """Keyed state machine: recent counted packets per (contract, side).

    A key holds the packets of the last `repeat_window_ms` only, and a packet costs O(1) (running aggregates),
    besides building the run it returns (its packet and print ids, which its hit cites).
    """

    __slots__ = ("_min_contracts", "_min_packets", "_min_premium_cents", "_recent", "_steps", "_window_ns")

    def __init__(self, min_packets: int, window_ns: int, min_premium_cents: int = 0, min_contracts: int = 0) -> None:
        if min_packets < 2 or window_ns <= 0 or min_premium_cents < 0 or min_contracts < 0:
            raise ValueError("repeated hits need min_packets >= 2, a positive window and floors >= 0")
        self._min_packets = min_packets
        self._window_ns = window_ns
        self._min_premium_cents = min_premium_cents
        self._min_contracts = min_contracts
        self._recent: dict[tuple[str, RunSide], _Recent] = {}
        self._steps = 0

    @classmethod
    def from_config(cls, config: OptionsConfig) -> RepeatedHits:
        """Build the detector from `repeat_min_packets`, `repeat_window_ms`, `repeat_min_packet_premium_usd`,
        `repeat_min_packet_contracts`."""
        return cls(
            config.repeat_min_packets,
            config.repeat_window_ms * NS_PER_MS,
            config.repeat_min_packet_premium_usd * CENTS_PER_USD,
            config.repeat_min_packet_contracts,
        )

    def step(self, packet: Packet) -> RepeatRun | None:
        """Record a closed packet; return its run when the run is long enough, else None."""
        self._steps += 1
        if self._steps % EXPIRE_EVERY == 0:
            self._expire(packet.ts_event)
        side = packet.side
        if (
            side == "unknown"
            or packet.premium_cents < self._min_premium_cents
            or packet.size_contracts < self._min_contracts
        ):
            return None
        key = (packet.symbol, side)
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = _Recent(deque())
        entry = _Entry(
            packet.ts_event, packet.id, packet.print_ids, packet.size_contracts, packet.premium_cents, packet.vwap_e9
        )
        entries = recent.entries
        in_order = not entries or entries[-1].ts_event <= entry.ts_event
        if in_order:
            recent.append(entry)
        else:
            # Packets of one contract close in time order; keep the deque sorted if a feed says otherwise.
            recent.rebuild(sorted((*entries, entry), key=lambda e: e.ts_event))
        newest = entries[-1].ts_event
        while newest - entries[0].ts_event > self._window_ns:
            recent.popleft()
        ts = entry.ts_event
        if in_order:
            # The run is the whole window: the packet is its newest entry.
            if len(entries) < self._min_packets:
                return None
            run: Sequence[_Entry] = entries
            size, premium, ups, downs = recent.size_contracts, recent.premium_cents, recent.ups > 0, recent.downs > 0
        else:
            # The run is what lies within the window up to this packet.
            run = [e for e in entries if e.ts_event <= ts and ts - e.ts_event <= self._window_ns]
            if len(run) < self._min_packets:
                return None
            size = sum(e.size_contracts for e in run)
            premium = sum(e.premium_cents for e in run)
            ups = any(b.vwap_e9 > a.vwap_e9 for a, b in pairwise(run))
            downs = any(b.vwap_e9 < a.vwap_e9 for a, b in pairwise(run))
        return RepeatRun(
            symbol=packet.symbol,
            side=side,
            ts_first=run[0].ts_event,
            ts_last=run[-1].ts_event,
            packet_ids=tuple(e.packet_id for e in run),
            print_ids=tuple(i for e in run for i in e.print_ids),
            size_contracts=size,
            premium_cents=premium,
            vwaps_e9=tuple(e.vwap_e9 for e in run),
            price_trend=_trend(ups, downs),
        )

    def _expire(self, now_ns: int) -> None:
        stale = [
            k for k, r in self._recent.items() if not r.entries or now_ns - r.entries[-1].ts_event > self._window_ns
        ]
        for key in stale:
            del self._recent[key]

    def forget(self, symbol: str) -> None:
        """Drop the runs of the contract `symbol` (it expired)."""
        self._recent.pop((symbol, "buy"), None)
        self._recent.pop((symbol, "sell"), None)

    def __len__(self) -> int:
        """Return the number of (contract, side) keys held."""
        return len(self._recent)
