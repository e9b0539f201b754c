"""Off-exchange (dark) inference from joined equity prints (BEHAVIOR section 8).

Only off-exchange, size-eligible prints count (`EquityTrade.off_exchange` and `size_eligible`).

- `absorbed_block`: one print at `MID` (placed against a fresh, uncrossed, unlocked quote: not by the tick
  test), size >= `dark_block_min_shares` and notional >= `dark_min_block_usd`, spread <= `dark_max_spread_pct`
  percent of the midpoint. Direction neutral: a midpoint block shows size, not an aggressor.
- `stealth_accumulation` / `distribution`: within `stealth_window_ms` (prints with ts >= the newest counted
  print's minus the window; a print arriving behind that is not counted), >= `stealth_min_prints` buyer-
  (seller-) initiated prints of >= `stealth_min_print_shares` each, totalling >= `stealth_min_total_shares`.
  At most one per underlying and kind per `stealth_cooldown_ms`; the evidence is every counted print in the
  window, so consecutive inferences may share prints. Windows keep a running share total: O(1) per print.

Confidence is a stated sum (see `ABSORBED_FORMULA`, `STEALTH_FORMULA`) of a base, a size term (notional or
shares relative to the thresholds, log scale: the full term at 8x), an ADV term (shares relative to
`dark_adv_full_pct` of the underlying's average daily volume; half credit when the ADV is unknown) and a quote
term (spread and quote age for blocks; same-side purity and tick-test share for stealth).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from math import log2
from typing import Any, Final, NamedTuple

from events.config import EquitiesConfig
from events.ids import derived_event_id
from events.models import DarkInference, DarkKind, Direction, EquityTrade
from events.units import PRICE_SCALE, format_price, format_usd, notional_cents
from operators.construct import Constructor

_INFERENCES: Constructor[DarkInference] = Constructor(DarkInference)

ABSORBED_FORMULA: Final = (
    "confidence = 0.5 + 0.2 x size + 0.15 x adv + 0.15 x quote; size = min(1, log2(notional / min notional) / 3), "
    "adv = min(1, shares / (adv_full_pct% of ADV)) or 0.5 when ADV is unknown, "
    "quote = (1 - spread / max spread + 1 - quote age / max age) / 2"
)
STEALTH_FORMULA: Final = (
    "confidence = 0.35 + 0.2 x size + 0.1 x count + 0.15 x adv + 0.2 x purity x (1 - tick-test share / 2); "
    "size = min(1, log2(shares / min total) / 3), count = min(1, (prints - min prints) / min prints), "
    "adv = min(1, shares / (adv_full_pct% of ADV)) or 0.5 when ADV is unknown, "
    "purity = same-side shares / both sides' counted shares in the window"
)
_UNKNOWN_ADV_CREDIT = 0.5
_FULL_SIZE_LOG2 = 3.0  # 8x the threshold earns the whole size term


class _Counted(NamedTuple):
    """One print counted by the stealth windows."""

    ts_event: int
    sequence: int
    print_id: str
    size_shares: int
    price_e9: int
    tick_test: bool


class _Window:
    """One underlying's counted prints on one side, in time order, with their running share total."""

    __slots__ = ("prints", "shares")

    def __init__(self) -> None:
        self.prints: deque[_Counted] = deque()
        self.shares = 0


def _size_term(ratio: float) -> float:
    return min(1.0, log2(ratio) / _FULL_SIZE_LOG2) if ratio > 1.0 else 0.0


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)


class DarkDetector:
    """Keyed state for dark inference: per underlying and side, the counted prints of the stealth window.

    `adv_shares` maps an underlying to its average daily volume in shares (reference data; see `set_adv`).
    """

    __slots__ = (
        "_adv",
        "_adv_full_fraction",
        "_block_min_cents",
        "_block_min_shares",
        "_cooldown_ns",
        "_last_fired",
        "_max_age_ns",
        "_max_spread_pct",
        "_min_print_shares",
        "_min_prints",
        "_min_total",
        "_window_ns",
        "_windows",
        "config",
    )

    def __init__(self, config: EquitiesConfig, adv_shares: Mapping[str, int] | None = None) -> None:
        self.config = config
        self._adv: dict[str, int] = dict(adv_shares or {})
        self._block_min_shares = config.dark_block_min_shares
        self._block_min_cents = config.dark_min_block_cents
        self._max_spread_pct = config.dark_max_spread_pct
        self._max_age_ns = config.equity_quote_max_age_ns
        self._window_ns = config.stealth_window_ns
        self._cooldown_ns = config.stealth_cooldown_ns
        self._min_prints = config.stealth_min_prints
        self._min_print_shares = config.stealth_min_print_shares
        self._min_total = config.stealth_min_total_shares
        self._adv_full_fraction = config.dark_adv_full_pct / 100
        # (underlying, side) -> counted prints in arrival order; (underlying, kind) -> ts of the last inference.
        self._windows: dict[tuple[str, str], _Window] = {}
        self._last_fired: dict[tuple[str, str], int] = {}

    def set_adv(self, underlying: str, adv_shares: int | None) -> None:
        """Record (or forget, with None) an underlying's average daily volume in shares."""
        if adv_shares is None or adv_shares <= 0:
            self._adv.pop(underlying, None)
        else:
            self._adv[underlying] = adv_shares

    def adv(self, underlying: str) -> int | None:
        return self._adv.get(underlying)

    def on_trade(self, trade: EquityTrade) -> list[DarkInference]:
        """Read one joined print; return the inferences it completes (absorbed block first)."""
        fields = trade.__dict__  # see nbbo_join.QuoteBook.update_fields
        if not (fields["off_exchange"] and fields["size_eligible"]):
            return []
        out: list[DarkInference] = []
        size = fields["size_shares"]
        if (
            fields["placement"] == "MID"
            and not fields["tick_test"]
            and size >= self._block_min_shares
            and fields["notional_cents"] >= self._block_min_cents
        ):
            block = self._absorbed_block(fields)
            if block is not None:
                out.append(block)
        side = fields["side"]
        if side != "unknown" and size >= self._min_print_shares:
            stealth = self._stealth(fields, side)
            if stealth is not None:
                out.append(stealth)
        return out

    # ---------------------------------------------------------------------------------- absorbed block

    def _absorbed_block(self, trade: dict[str, Any]) -> DarkInference | None:
        bid, ask = trade["bid_e9"], trade["ask_e9"]
        mid2 = bid + ask  # twice the midpoint, to stay in integers until the ratio
        spread_pct = (ask - bid) * 200 / mid2
        if spread_pct > self._max_spread_pct:
            return None
        underlying = trade["underlying"]
        size = trade["size_shares"]
        notional = trade["notional_cents"]
        price = trade["price_e9"]
        age = trade["quote_age_ns"]
        adv = self._adv.get(underlying)
        notional_ratio = notional / self._block_min_cents
        size_term = _size_term(notional_ratio)
        adv_pct = None if adv is None else size / adv * 100
        adv_term = _UNKNOWN_ADV_CREDIT if adv is None else min(1.0, size / (adv * self._adv_full_fraction))
        quote_term = ((1 - spread_pct / self._max_spread_pct) + (1 - age / self._max_age_ns)) / 2
        confidence = _clamp(0.5 + 0.2 * size_term + 0.15 * adv_term + 0.15 * quote_term)
        config = self.config
        rule = (
            f"absorbed_block: off-exchange print at MID, size >= {config.dark_block_min_shares:,} shares and "
            f"notional >= {format_usd(self._block_min_cents)}, quote fresh (<= {config.equity_quote_max_age_ms} ms) "
            f"and spread <= {config.dark_max_spread_pct}% of mid; {ABSORBED_FORMULA}"
        )
        metrics: dict[str, float] = {
            "size_shares": float(size),
            "notional_usd": notional / 100,
            "price": price / PRICE_SCALE,
            "bid": bid / PRICE_SCALE,
            "ask": ask / PRICE_SCALE,
            "spread_pct_of_mid": round(spread_pct, 6),
            "quote_age_ms": age / 1_000_000,
            "notional_vs_min": round(notional_ratio, 4),
            "size_vs_min": round(size / self._block_min_shares, 4),
            "size_term": round(size_term, 4),
            "adv_term": round(adv_term, 4),
            "quote_term": round(quote_term, 4),
        }
        explanations = [
            f"Off-exchange print of {size:,} shares at {format_price(price, 4)} ({format_usd(notional)}) on "
            f"{trade['venue']}, at the midpoint of the consolidated quote {format_price(bid, 4)} x "
            f"{format_price(ask, 4)} ({age / 1_000_000:.0f} ms old, spread {spread_pct:.3f}% of mid).",
            f"At least {config.dark_block_min_shares:,} shares and {format_usd(self._block_min_cents)} "
            f"({notional_ratio:.1f}x the notional threshold), spread within {config.dark_max_spread_pct}% of mid: "
            "size absorbed away from the lit book without moving the quote.",
        ]
        if adv is not None and adv_pct is not None:
            metrics["adv_shares"] = float(adv)
            metrics["pct_of_adv"] = round(adv_pct, 6)
            explanations.append(f"{size:,} shares are {adv_pct:.3f}% of the average daily volume ({adv:,} shares).")
        else:
            explanations.append("Average daily volume unknown: half credit for size relative to ADV.")
        ts = trade["ts_event"]
        return self._build(
            "absorbed_block",
            "neutral",
            underlying,
            confidence,
            rule,
            metrics,
            explanations,
            (trade["print_id"],),
            ts,
            ts,
            size,
            price * size,
            adv,
        )

    # ------------------------------------------------------------------------------------------ stealth

    def _stealth(self, trade: dict[str, Any], side: str) -> DarkInference | None:
        underlying = trade["underlying"]
        ts = trade["ts_event"]
        size = trade["size_shares"]
        key = (underlying, side)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        counted = _Counted(ts, trade["sequence"], trade["print_id"], size, trade["price_e9"], trade["tick_test"])
        prints = window.prints
        if not prints or ts >= prints[-1].ts_event:
            prints.append(counted)
        elif ts < prints[-1].ts_event - self._window_ns:
            return None  # behind the window of the newest counted print: too late to count
        else:
            # A print slightly out of order: keep the window in time order (it lands near the end).
            at = len(prints) - 1
            while at > 0 and prints[at - 1].ts_event > ts:
                at -= 1
            prints.insert(at, counted)
        window.shares += size
        newest = prints[-1].ts_event
        horizon = newest - self._window_ns
        while prints[0].ts_event < horizon:
            window.shares -= prints.popleft().size_shares
        total = window.shares
        if len(prints) < self._min_prints or total < self._min_total:
            return None
        kind: DarkKind = "stealth_accumulation" if side == "buy" else "distribution"
        fired = self._last_fired.get((underlying, kind))
        if fired is not None and newest - fired < self._cooldown_ns:
            return None
        self._last_fired[underlying, kind] = newest
        other = self._windows.get((underlying, "sell" if side == "buy" else "buy"))
        opposite = 0 if other is None else sum(c.size_shares for c in other.prints if c.ts_event >= horizon)
        return self._stealth_inference(kind, underlying, sorted(prints), total, opposite)

    def _stealth_inference(
        self,
        kind: DarkKind,
        underlying: str,
        counted: list[_Counted],
        total: int,
        opposite: int,
    ) -> DarkInference:
        config = self.config
        n = len(counted)
        notional_e9 = sum(c.price_e9 * c.size_shares for c in counted)
        tick_shares = sum(c.size_shares for c in counted if c.tick_test)
        adv = self._adv.get(underlying)
        size_ratio = total / self._min_total
        size_term = _size_term(size_ratio)
        count_term = min(1.0, (n - self._min_prints) / self._min_prints)
        adv_term = _UNKNOWN_ADV_CREDIT if adv is None else min(1.0, total / (adv * self._adv_full_fraction))
        purity = total / (total + opposite)
        tick_share = tick_shares / total
        confidence = _clamp(
            0.35 + 0.2 * size_term + 0.1 * count_term + 0.15 * adv_term + 0.2 * purity * (1 - tick_share / 2)
        )
        span_ms = (counted[-1].ts_event - counted[0].ts_event) / 1_000_000
        verb, aggressor = ("bought", "buyer") if kind == "stealth_accumulation" else ("sold", "seller")
        placed = "at or above the ask" if kind == "stealth_accumulation" else "at or below the bid"
        vwap = (notional_e9 + total // 2) // total
        rule = (
            f"{kind}: >= {config.stealth_min_prints} off-exchange {aggressor}-initiated prints of "
            f">= {config.stealth_min_print_shares:,} shares within {config.stealth_window_ms / 1000:g} s totalling "
            f">= {config.stealth_min_total_shares:,} shares; cooldown {config.stealth_cooldown_ms / 1000:g} s per "
            f"underlying and kind; {STEALTH_FORMULA}"
        )
        metrics: dict[str, float] = {
            "prints": float(n),
            "size_shares": float(total),
            "notional_usd": notional_cents(notional_e9, 1) / 100,
            "vwap": vwap / PRICE_SCALE,
            "span_ms": span_ms,
            "opposite_side_shares": float(opposite),
            "purity": round(purity, 4),
            "tick_test_share": round(tick_share, 4),
            "size_vs_min": round(size_ratio, 4),
            "size_term": round(size_term, 4),
            "count_term": round(count_term, 4),
            "adv_term": round(adv_term, 4),
        }
        explanations = [
            f"{n} off-exchange prints {verb} {placed} ({aggressor}-initiated) within {span_ms / 1000:.1f} s: "
            f"{total:,} shares ({format_usd(notional_cents(notional_e9, 1))}, VWAP {format_price(vwap, 4)}).",
            f"Thresholds: >= {config.stealth_min_prints} prints of >= {config.stealth_min_print_shares:,} shares "
            f"within {config.stealth_window_ms / 1000:g} s, >= {config.stealth_min_total_shares:,} shares in all "
            f"({size_ratio:.1f}x).",
            "Prints: "
            + ", ".join(f"{c.size_shares:,} @ {format_price(c.price_e9, 4)}" for c in counted[:10])
            + (f" and {n - 10} more" if n > 10 else "")
            + ".",
            f"Opposite-side off-exchange prints in the window: {opposite:,} shares (purity {purity:.0%}).",
        ]
        if tick_shares:
            explanations.append(f"{tick_share:.0%} of the shares were placed by the tick test (locked market).")
        if adv is not None:
            metrics["adv_shares"] = float(adv)
            metrics["pct_of_adv"] = round(total / adv * 100, 6)
            explanations.append(
                f"{total:,} shares are {total / adv * 100:.3f}% of the average daily volume ({adv:,} shares)."
            )
        else:
            explanations.append("Average daily volume unknown: half credit for size relative to ADV.")
        direction: Direction = "bullish" if kind == "stealth_accumulation" else "bearish"
        return self._build(
            kind,
            direction,
            underlying,
            confidence,
            rule,
            metrics,
            explanations,
            tuple(c.print_id for c in counted),
            counted[0].ts_event,
            counted[-1].ts_event,
            total,
            notional_e9,
            adv,
        )

    # ------------------------------------------------------------------------------------------- build

    def _build(
        self,
        kind: DarkKind,
        direction: Direction,
        underlying: str,
        confidence: float,
        rule: str,
        metrics: dict[str, float],
        explanations: list[str],
        evidence: tuple[str, ...],
        ts_first: int,
        ts_last: int,
        size: int,
        notional_e9: int,
        adv: int | None,
    ) -> DarkInference:
        fields = _INFERENCES.template()
        fields["id"] = derived_event_id("dark_inference", (kind, *evidence))
        fields["ts_event"] = ts_last
        fields["underlying"] = underlying
        fields["kind"] = kind
        fields["direction"] = direction
        fields["confidence"] = confidence
        fields["rule"] = rule
        fields["metrics"] = metrics
        fields["explanations"] = tuple(explanations)
        fields["evidence_ids"] = evidence
        fields["ts_first"] = ts_first
        fields["ts_last"] = ts_last
        fields["print_count"] = len(evidence)
        fields["size_shares"] = size
        fields["notional_cents"] = notional_cents(notional_e9, 1)
        fields["vwap_e9"] = (notional_e9 + size // 2) // size
        fields["adv_shares"] = adv
        return _INFERENCES.build(fields)
