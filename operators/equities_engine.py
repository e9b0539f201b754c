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

from collections import deque
from collections.abc import Mapping, Sequence
from typing import cast

from events.config import EquitiesConfig
from events.models import AnyEvent, Candle, DarkInference, DarkLevel, EquityPrint, EquityTrade
from operators.candles import CandleBuilder
from operators.dark import DarkDetector
from operators.dark_levels import DarkLevels
from operators.equity_join import EquityJoin
from operators.tape_engine import TapeEngine

EquitiesOutput = EquityTrade | DarkInference | DarkLevel | Candle

MAX_PENDING_PRINTS = 100_000
"""Prints held for the quote stream at most; past it the oldest is joined at once (a feed without quotes)."""


class EquitiesEngine(TapeEngine[EquitiesOutput]):
    """Keyed state machine for one underlying's equity tape."""

    def __init__(self, config: EquitiesConfig, adv_shares: Mapping[str, int] | None = None) -> None:
        self.config = config
        self.join = EquityJoin(config.equity_quote_max_age_ns, config.equity_at_side_band)
        self.dark = DarkDetector(config, adv_shares)
        self.levels = DarkLevels(config)
        self.candles = CandleBuilder(config)
        self._late_ns = config.candle_late_ns
        self._pending: deque[EquityPrint] = deque()
        self._quote_wm = -1
        self._print_wm = -1
        self._keep_from = self._print_wm - self._late_ns  # quote history a print at the watermark can need
        self.events_in = 0

    def set_adv(self, underlying: str, adv_shares: int | None) -> None:
        """Record (or forget, with None) an underlying's average daily volume in shares."""
        self.dark.set_adv(underlying, adv_shares)

    # ------------------------------------------------------------------------------------ inputs

    def on_eof(self) -> list[EquitiesOutput]:
        """End of input: join every waiting print, publish the dark levels left, close every candle."""
        out: list[EquitiesOutput] = []
        while self._pending:
            self._process(self._pending.popleft(), out)
        out.extend(self.levels.flush())
        out.extend(self.candles.flush())
        return out

    @property
    def pending_prints(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------------------- idle timer

    @property
    def event_time_ns(self) -> int:
        newest = max(self._print_wm, self._quote_wm)
        return max(newest, max(p.ts_event for p in self._pending)) if self._pending else newest

    def next_due_ns(self) -> int | None:
        if self._pending:
            return self._pending[0].ts_event
        end = self.candles.next_window_end_ns()
        return None if end is None else end + self._late_ns

    def on_idle(self, now_ns: int) -> list[EquitiesOutput]:
        out: list[EquitiesOutput] = []
        if now_ns > self._quote_wm:
            self._quote_wm = now_ns
        while self._pending:  # the quote stream has been quiet too: join with the quotes there are
            self._process(self._pending.popleft(), out)
        if now_ns > self._print_wm:
            self._print_wm = now_ns
            self._keep_from = now_ns - self._late_ns
            out.extend(self.candles.advance(self._keep_from))
        return out

    @property
    def late_prints(self) -> dict[str, int]:
        """Prints that missed their closed candle window, per interval label."""
        return self.candles.late_prints

    # ---------------------------------------------------------------------------------- internals

    def _consume(self, events: Sequence[AnyEvent], out: list[EquitiesOutput]) -> None:
        # Dispatch on the `event_type` literal, quotes first (they outnumber prints); fields are read from the
        # models' `__dict__` (see `nbbo_join.QuoteBook.update_fields`). Other event types are ignored.
        on_quote = self.join.on_quote_fields
        pending = self._pending
        for event in events:
            fields = event.__dict__
            event_type = fields["event_type"]
            if event_type == "equity_quote":
                on_quote(fields, self._keep_from)
                ts = fields["ts_event"]
                if ts > self._quote_wm:
                    self._quote_wm = ts
                if pending:
                    self._release(out)
            elif event_type == "equity_print":
                trade = cast(EquityPrint, event)
                if not pending and (fields["ask_e9"] is not None or fields["ts_event"] < self._quote_wm):
                    self._process(trade, out)
                else:
                    pending.append(trade)
                    if len(pending) > MAX_PENDING_PRINTS:
                        self._process(pending.popleft(), out)
                    else:
                        self._release(out)
            elif event_type == "volume_baseline" and fields["scope"] == "equity":
                mean = fields["day_volume_mean"]
                self.set_adv(fields["subject"], round(mean) if mean > 0 else None)
        self.events_in += len(events)

    def _release(self, out: list[EquitiesOutput]) -> None:
        pending = self._pending
        while pending and (pending[0].ts_event < self._quote_wm or pending[0].ask_e9 is not None):
            self._process(pending.popleft(), out)

    def _process(self, event: EquityPrint, out: list[EquitiesOutput]) -> None:
        trade = self.join.trade(event)
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
            self._keep_from = ts - self._late_ns
            if self._keep_from >= candles.next_close_ns:
                out.extend(candles.advance(self._keep_from))
