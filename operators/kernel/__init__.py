"""The compiled kernel: the options engine's per-print stages in Rust, one call per batch of raw events.

`_native.OptionsKernel` (crate `operators/kernel`, built by `pip install -e .` through setuptools-rust) does what
`operators.tape_engine.QuoteGatedEngine` (quote gating, pending prints), `operators.nbbo_join` (quote book, as-of
join, placement), `operators.underlying_price` and `operators.packets` (clustering, packet features) do for one
underlying, with the same results: those readable operators stay the reference, and
tests/operators/kernel checks the two agree on random tapes whatever the batch boundaries. What is per packet
after a packet closes (baselines, classifiers, structures, alerts, flow context) stays in Python.

`_native.EquitiesKernel` does the same for `operators.equities_engine.EquitiesEngine`: quote gating, the quote
book, `operators.equity_join` and `operators.eligibility`; it returns an `EquityTrade` per print taken and the
reference events to apply, in order.

An options kernel call returns records in the order the reference engine would act on them:

- a `Packet`: a packet closed (the engine's `_emit` takes it);
- an `int`: the print watermark moved; the value is the new packet watermark (`keep_from`), at which the engine
  advances structures and flow context (`_advance`);
- any other event: a reference event to apply in Python (the kernel has applied an option definition's
  multiplier and contract itself).

Python helps the kernel through `OptionsHooks`, given to every call and never kept, so the kernel's state is its
own and pickles compactly (bincode of the Rust state).

The kernel reads times, prices and sizes as signed 64-bit integers: a value outside that range (which the
contracts do not yet reject at the edge) raises `OverflowError` from the call instead of being processed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from events.calendar import NEW_YORK
from events.config import EquitiesConfig, OptionsConfig
from events.models import AnyEvent, EquityTrade, Packet
from events.symbology import parse_occ, underlying_for_root
from events.units import NS_PER_S
from operators.classifiers.common import POOR_QUOTES_COVERAGE
from operators.construct import Constructor
from operators.flow_context import COMPACT_MIN_ENTRIES
from operators.nbbo_join import band_bp
from operators.packet_context import min_hit_premium_cents
from operators.underlying_price import IMPLIED_REFRESH_NS
from operators.volume_baselines import SessionClock, session_interval

try:
    from operators.kernel._native import EquitiesKernel, OptionsKernel, runs_by_key, scan_stream
except ImportError:  # not built (a checkout without `make install`): the Python reference runs
    AVAILABLE = False

    def runs_by_key(
        events: Any, key_fields: dict[str, str], timed_types: frozenset[str], ahead_ns: int
    ) -> list[tuple[str, tuple[list[Any], int, int]]]:
        """Stand-in of the kernel's `runs_by_key` where it is not built (callers check `AVAILABLE` first)."""
        raise RuntimeError("the compiled kernel is not built")

    def scan_stream(events: Any, clock: int, ahead_ns: int, timed_types: frozenset[str]) -> tuple[int, int]:
        """Stand-in of the kernel's `scan_stream` where it is not built (callers check `AVAILABLE` first)."""
        raise RuntimeError("the compiled kernel is not built")

else:
    AVAILABLE = True

__all__ = [
    "AVAILABLE",
    "EquitiesHooks",
    "EquitiesKernel",
    "OptionsHooks",
    "OptionsKernel",
    "kernel_records",
    "new_equities_kernel",
    "new_options_kernel",
    "runs_by_key",
    "scan_stream",
    "session_of",
]

_PACKET: Final = Constructor(Packet)
_TRADE: Final = Constructor(EquityTrade)
_CLOCK: Final = SessionClock()


def kernel_records(call: Callable[..., list[object]], *args: Any, act: Callable[[list[object]], None]) -> list[object]:
    """Return the records of one kernel call (`call(*args)`). A call that raises part-way (a value the kernel
    cannot take: see `flows.engine_guard`) has already moved past the records it made before the error, which the
    exception carries (`kernel_records`): `act` takes those, then the error goes on."""
    try:
        return call(*args)
    except Exception as exc:
        act(getattr(exc, "kernel_records", []))
        raise


def new_options_kernel(config: OptionsConfig) -> OptionsKernel:
    """A kernel with the options engine's settings."""
    kernel = OptionsKernel(
        config.watermark_lag_ns,
        config.nbbo_max_age_ns,
        band_bp(config.at_side_band),
        config.packet_gap_ns,
        config.packet_window_ns,
        config.underlying_parity_window_ns,
        IMPLIED_REFRESH_NS,
        config.sweep_min_side_ratio,
        config.block_min_contracts,
        config.block_min_premium_cents,
        config.default_multiplier,
        (
            config.rolling_window,
            config.z_min_samples,
            config.structure_min_leg_contracts,
            min_hit_premium_cents(config),
        ),
    )
    kernel.set_flow(
        [length for _, length in config.flow_context_window_ns],
        config.flow_context_emit_ns,
        COMPACT_MIN_ENTRIES,
        config.flow_context_large_premium_cents,
        POOR_QUOTES_COVERAGE,
        config.flow_context_exact_ns,
        config.flow_context_step_ns,
    )
    return kernel


def new_equities_kernel(config: EquitiesConfig) -> EquitiesKernel:
    """A kernel with the equities engine's settings."""
    return EquitiesKernel(config.candle_late_ns, config.equity_quote_max_age_ns, band_bp(config.equity_at_side_band))


def day_of(ts_ns: int) -> tuple[int, int]:
    """(New York date ordinal, ns of the next New York midnight) of a time (`UnderlyingPrice._turn_day`)."""
    day = _CLOCK.locate(ts_ns)[0]
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=NEW_YORK)
    return day.toordinal(), int(midnight.timestamp()) * NS_PER_S


def session_of(ts_ns: int) -> tuple[int, int, int, int]:
    """[lo, hi) around a time with its (New York date ordinal, session bucket or -1) (`session_interval`)."""
    lo, hi, day, bucket = session_interval(ts_ns)
    return lo, hi, day.toordinal(), -1 if bucket is None else bucket


def occ_fields(symbol: str) -> tuple[str, int, str, int, str] | None:
    """An OSI symbol's (root, expiry ordinal, right, strike_e9, the root's default underlying); None if not one."""
    try:
        occ = parse_occ(symbol)
    except ValueError:
        return None
    return occ.root, occ.expiry.toordinal(), occ.right, occ.strike_e9, underlying_for_root(occ.root)


class OptionsHooks:
    """What the kernel asks Python during one call (see the module docstring)."""

    __slots__ = ("make_parts", "scheduled", "scheduled_ids", "template")

    day_of = staticmethod(day_of)
    parse_occ = staticmethod(occ_fields)
    date_of = staticmethod(date.fromordinal)
    make_packet = staticmethod(_PACKET.build)

    def __init__(self, scheduled: Callable[[int], tuple[Sequence[AnyEvent], int]], scheduled_ids: set[str]) -> None:
        self.scheduled = scheduled
        """`scheduled(ts)`: pop the scheduled reference events due at `ts`; return them and the next one's time."""
        self.scheduled_ids = scheduled_ids
        self.template: dict[str, Any] = _PACKET.template()
        self.make_parts = _PACKET.kernel_parts()
        """What the kernel builds packets with itself; None: through `make_packet`."""


class EquitiesHooks:
    """What the equities kernel asks Python during one call: scheduled events due, and building the trade."""

    __slots__ = ("make_parts", "scheduled", "scheduled_ids", "template")

    make_trade = staticmethod(_TRADE.build)

    def __init__(self, scheduled: Callable[[int], tuple[Sequence[AnyEvent], int]], scheduled_ids: set[str]) -> None:
        self.scheduled = scheduled
        self.scheduled_ids = scheduled_ids
        self.template: dict[str, Any] = _TRADE.template()
        self.make_parts = _TRADE.kernel_parts()
