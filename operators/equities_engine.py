"""The equities engine for one underlying: as-of quote join -> eligibility -> dark inference, dark levels and
candles.

A flow keeps one engine per underlying (the partition key) and feeds it that underlying's raw equity events in
arrival order. As in the options engine, determinism does not depend on how the print and quote topics
interleave:

- A print waits until the quote stream of its underlying has passed the print's time (a quote strictly later,
  since several quotes may share a timestamp), or the print carries the provider's quote at trade time, or
  input ends; so the as-of join always sees the same quotes. Quote history is kept back to the print
  watermark minus `candle_late_ms`: prints up to that far behind the newest print join exactly and land in
  their candles; older ones are late.
- Candles close on the print watermark (newest print time minus `candle_late_ms`), dark levels publish in
  event-time rounds, stealth windows and cooldowns run on print times.

Per print, outputs come in this order: its `EquityTrade`; its `DarkInference`s (absorbed block, then stealth
accumulation or distribution); the `DarkLevel`s of a publication round it started (by rank, then levels that
fell out of the top); the `Candle`s its watermark closed (shortest interval first, then by window start).
`on_eof` publishes the remaining dark levels, then closes every candle.

The average daily volume of an underlying (shares), when known, scales dark-inference confidence: it comes as
reference data, a `VolumeBaseline` of scope `equity` (the daily job's regular-session mean; other scopes are the
options engine's and are ignored), or through `adv_shares` / `set_adv`. Unknown, the confidence term gets half
credit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from events.config import EquitiesConfig
from events.models import AnyEvent, Candle, DarkInference, DarkLevel, EquityPrint, EquityTrade
from operators.candles import CandleBuilder
from operators.dark import DarkDetector
from operators.dark_levels import DarkLevels
from operators.equity_join import EquityJoin
from operators.tape_engine import QuoteGatedEngine

EquitiesOutput = EquityTrade | DarkInference | DarkLevel | Candle


class EquitiesEngine(QuoteGatedEngine[EquityPrint, EquitiesOutput]):
    """Keyed state machine for one underlying's equity tape."""

    QUOTE_TYPE = "equity_quote"
    PRINT_TYPE = "equity_print"
    QUOTE_AT_TRADE = "ask_e9"

    def __init__(self, config: EquitiesConfig, adv_shares: Mapping[str, int] | None = None) -> None:
        super().__init__(config.candle_late_ns)
        self.config = config
        self.join = EquityJoin(config.equity_quote_max_age_ns, config.equity_at_side_band)
        self.dark = DarkDetector(config, adv_shares)
        self.levels = DarkLevels(config)
        self.candles = CandleBuilder(config)

    def set_adv(self, underlying: str, adv_shares: int | None) -> None:
        """Record (or forget, with None) an underlying's average daily volume in shares."""
        self.dark.set_adv(underlying, adv_shares)

    # ------------------------------------------------------------------------------------ inputs

    def on_eof(self) -> list[EquitiesOutput]:
        """End of input: join every waiting print, publish the dark levels left, close every candle."""
        out: list[EquitiesOutput] = []
        self._drain(out)
        out.extend(self.levels.flush())
        out.extend(self.candles.flush())
        return out

    @property
    def late_prints(self) -> dict[str, int]:
        """Prints that missed their closed candle window, per interval label."""
        return self.candles.late_prints

    # ---------------------------------------------------------------------------------- internals

    def _next_due_ns(self) -> int | None:
        end = self.candles.next_window_end_ns()
        return None if end is None else end + self._lag_ns

    def _on_watermark(self, out: list[EquitiesOutput]) -> None:
        out.extend(self.candles.advance(self._keep_from))

    def _quote_updater(self) -> Callable[[dict[str, Any], int], None]:
        return self.join.on_quote_fields

    def _reference(self, event_type: str, event: AnyEvent) -> None:
        fields = event.__dict__
        if event_type == "volume_baseline" and fields["scope"] == "equity":
            mean = fields["day_volume_mean"]
            self.set_adv(fields["subject"], round(mean) if mean > 0 else None)

    def _process(self, event: EquityPrint, out: list[EquitiesOutput]) -> None:
        self._on_trade(self.join.trade(event), out)

    def _on_trade(self, trade: EquityTrade, out: list[EquitiesOutput]) -> None:
        """What follows the join of one print (the compiled kernel joins, then hands each trade here)."""
        out.append(trade)
        fields = trade.__dict__
        if fields["off_exchange"] and fields["size_eligible"]:
            inferences = self.dark.on_trade(trade)
            if inferences:
                out.extend(inferences)
            levels = self.levels.on_trade(trade)
            if levels:
                out.extend(levels)
        candles = self.candles
        candles.add(trade)
        ts = fields["ts_event"]
        if ts > self._print_wm:
            self._print_wm = ts
            self._keep_from = ts - self._lag_ns
            if self._keep_from >= candles.next_close_ns:
                out.extend(candles.advance(self._keep_from))
