"""Per-packet context (BEHAVIOR sections 3, 4 and 6): what a packet classifier reads besides the packet.

Every closed packet updates its contract's state here, whatever its size: the rolling premium and size windows
(contract and underlying), the day and 5-minute volumes, and the repeated-hits runs. Only a packet that can matter
(premium at or above `min_hit_premium_cents`, the lowest premium floor of any packet classifier) gets a
`PacketContext` built, its z-scores computed and is classified; a smaller one gets no hit from any classifier, so
it pays for the state updates alone.

Reference data (open interest, historical volume baselines of option contracts) is kept here per contract, and
`forget` drops all of a contract's state once it expired (see `OptionsEngine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from events.baselines import VolumeBaseline
from events.config import OptionsConfig
from events.models import Packet
from events.units import CENTS_PER_USD
from operators.baselines import RollingWindow, Stats
from operators.repeated_hits import RepeatedHits, RepeatRun
from operators.volume_baselines import SessionClock


@dataclass(frozen=True, slots=True)
class PacketContext:
    """What a classifier may read besides the packet. None means unknown: the classifiers needing it abstain.

    Volumes include the packet itself (they are the totals once it is counted).
    """

    premium_z: float | None = None
    """Premium z-score against the contract's rolling window (else the underlying's), before adding it."""
    size_z: float | None = None
    """Size z-score against the contract's rolling window, before adding it."""
    open_interest_contracts: int | None = None
    """Prior-day open interest of the contract (reference data)."""
    day_volume_contracts: int | None = None
    """Contracts traded on the contract this session (New York date of ts_event), this packet included."""
    bucket_volume_contracts: int | None = None
    """Contracts traded on the contract in the current 5-minute session bucket, this packet included."""
    bucket_baseline_contracts: float | None = None
    """Historical mean contracts of the contract in this 5-minute bucket (`VolumeBaseline.bucket_volume_mean`)."""
    repeat_run: RepeatRun | None = None
    """The repeated-hits detector's run for this packet (`RepeatedHits.step(packet)`), None when none."""


def min_hit_premium_cents(cfg: OptionsConfig) -> int:
    """Return the smallest premium, in cents, with which any packet classifier can fire.

    Every packet classifier has a premium floor that its hit needs whatever the context: `large_sweep` the lower of
    `large_sweep_min_premium_usd` and `large_sweep_z_floor_premium_usd`, `repeated_hits` the packet's own
    `repeat_min_packet_premium_usd` (a packet under it does not count, so no run ends with it), every other rule its
    `*_min_premium_usd`. A packet under the smallest of them gets no hit from any classifier.
    """
    floors_usd = (
        cfg.large_sweep_min_premium_usd,
        cfg.large_sweep_z_floor_premium_usd,
        cfg.golden_sweep_min_premium_usd,
        cfg.block_trade_min_premium_usd,
        cfg.unusual_spike_min_premium_usd,
        cfg.unusual_volume_min_premium_usd,
        cfg.new_position_min_premium_usd,
        cfg.repeat_min_packet_premium_usd,
        cfg.write_min_premium_usd,
        cfg.far_dated_min_premium_usd,
        cfg.zero_dte_min_premium_usd,
    )
    return min(floors_usd) * CENTS_PER_USD


def can_matter(packet: Packet, cfg: OptionsConfig) -> bool:
    """Return whether a packet may get a hit from a packet classifier (premium >= `min_hit_premium_cents`).

    Conservative: a packet passing it may still get none; one failing it gets none, whatever its context.
    """
    return packet.premium_cents >= min_hit_premium_cents(cfg)


def context_of(
    symbol: str,
    premium_z: float | None,
    size_z: float | None,
    day_volume: int,
    bucket: int | None,
    bucket_volume: int | None,
    run: RepeatRun | None,
    open_interest: dict[str, int],
    volume_baselines: dict[str, VolumeBaseline],
) -> PacketContext:
    """The context of a packet that can matter: its z-scores, volumes and run, with the contract's reference data
    (open interest, the historical mean of its session bucket). Shared by `PacketContexts` and the kernel's."""
    bucket_baseline: float | None = None
    if bucket is not None:
        history = volume_baselines.get(symbol)
        if history is not None:
            bucket_baseline = history.bucket_volume_mean[bucket]
    return PacketContext(
        premium_z=premium_z,
        size_z=size_z,
        open_interest_contracts=open_interest.get(symbol),
        day_volume_contracts=day_volume,
        bucket_volume_contracts=bucket_volume,
        bucket_baseline_contracts=bucket_baseline,
        repeat_run=run,
    )


@dataclass(slots=True)
class _Contract:
    """One contract's running state: its rolling premium and size windows, its day and 5-minute volumes."""

    premium: RollingWindow
    size: RollingWindow
    day: date = date.min
    day_volume: int = 0
    bucket_day: date = date.min
    bucket: int = -1
    bucket_volume: int = 0


class PacketContexts:
    """Keyed state machine: the per-contract state classifiers read, fed every closed packet in close order."""

    __slots__ = (
        "_clock",
        "_contracts",
        "_hit_floor_cents",
        "_leg_floor",
        "_min_samples",
        "_underlyings",
        "_window",
        "open_interest",
        "repeats",
        "volume_baselines",
    )

    def __init__(self, config: OptionsConfig) -> None:
        self.repeats = RepeatedHits.from_config(config)
        self.open_interest: dict[str, int] = {}
        """Contract symbol -> prior-day open interest."""
        self.volume_baselines: dict[str, VolumeBaseline] = {}
        """Contract symbol -> its historical volume baseline (underlying-scope baselines are kept too)."""
        self._clock = SessionClock()
        self._contracts: dict[str, _Contract] = {}
        self._underlyings: dict[str, RollingWindow] = {}
        """Underlying -> the rolling premium window of all its contracts' packets (the contract's z fallback)."""
        self._window = config.rolling_window
        self._min_samples = config.z_min_samples
        self._leg_floor = config.structure_min_leg_contracts
        self._hit_floor_cents = min_hit_premium_cents(config)

    def on_packet(self, packet: Packet) -> tuple[PacketContext | None, float | None]:
        """Count a closed packet; return its context (None when it cannot matter: `can_matter`) and its contract's
        usual packet size before it (the rolling median, for the structure leg rule; None under
        `structure_min_leg_contracts` or below `z_min_samples`)."""
        fields = packet.__dict__  # see QuoteBook.update_fields
        symbol = fields["symbol"]
        premium = fields["premium_cents"]
        size = fields["size_contracts"]
        contract = self._contracts.get(symbol)
        if contract is None:
            contract = self._contracts[symbol] = _Contract(RollingWindow(self._window), RollingWindow(self._window))
        underlying = self._underlyings.get(fields["underlying"])
        if underlying is None:
            underlying = self._underlyings[fields["underlying"]] = RollingWindow(self._window)
        min_samples = self._min_samples
        sizes = contract.size
        usual_size = sizes.median(min_samples) if size >= self._leg_floor else None
        matters = premium >= self._hit_floor_cents  # can_matter, inline
        premium_z = size_z = None
        if matters:
            premium_z = contract.premium.observe(premium, min_samples)
            if premium_z is None:
                premium_z = underlying.observe(premium, min_samples)
            else:
                underlying.add(premium)  # the underlying's z is only the fallback
            size_z = sizes.observe(size, min_samples)
        else:
            contract.premium.add(premium)
            underlying.add(premium)
            sizes.add(size)
        day, bucket = self._clock.locate(fields["ts_event"])
        if contract.day != day:
            contract.day, contract.day_volume = day, 0
        contract.day_volume += size
        bucket_volume: int | None = None
        if bucket is not None:
            if contract.bucket_day != day or contract.bucket != bucket:
                contract.bucket_day, contract.bucket, contract.bucket_volume = day, bucket, 0
            contract.bucket_volume += size
            bucket_volume = contract.bucket_volume
        run = self.repeats.step(packet)
        if not matters:
            return None, usual_size
        ctx = context_of(
            symbol, premium_z, size_z, contract.day_volume, bucket, bucket_volume, run, self.open_interest,
            self.volume_baselines,
        )  # fmt: skip
        return ctx, usual_size

    def stats(self, key: str, metric: str) -> Stats | None:
        """Return the summary of a rolling window: a contract's `premium` or `size`, an underlying's `premium`."""
        contract = self._contracts.get(key)
        if contract is not None and metric in ("premium", "size"):
            return (contract.premium if metric == "premium" else contract.size).stats()
        underlying = self._underlyings.get(key)
        return underlying.stats() if underlying is not None and metric == "premium" else None

    def forget(self, symbol: str) -> None:
        """Drop every piece of state of the contract `symbol` (it expired)."""
        self._contracts.pop(symbol, None)
        self.repeats.forget(symbol)
        self.open_interest.pop(symbol, None)
        self.volume_baselines.pop(symbol, None)

    def state_counts(self) -> dict[str, int]:
        """Return the number of entries each map holds."""
        return {
            "contracts": len(self._contracts),
            "underlying_windows": len(self._underlyings),
            "repeat_runs": len(self.repeats),
            "open_interest": len(self.open_interest),
            "volume_baselines": len(self.volume_baselines),
        }
