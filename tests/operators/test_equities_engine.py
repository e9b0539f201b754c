"""The equities engine: topic interleaving does not change the join, output order, determinism, end of input."""

from __future__ import annotations

import pickle
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from events.config import EquitiesConfig
from events.models import AnyEvent, Candle, DarkInference, DarkLevel, EquityPrint, EquityQuote, EquityTrade
from operators.equities_engine import EquitiesEngine, EquitiesOutput
from tests.factories import equity_adv, equity_print, equity_quote, quote, trade, ts, volume_baseline
from tests.operators.engines import idle_until_quiet

CONFIG = EquitiesConfig()


def _quotes() -> list[EquityQuote]:
    return [
        equity_quote(0, "100.00", "100.02"),
        equity_quote(1_000, "100.01", "100.03"),
        equity_quote(2_500, "100.02", "100.04"),
        equity_quote(7_900, "100.00", "100.02"),
        equity_quote(11_900, "100.00", "100.02"),
        equity_quote(20_000, "100.00", "100.02"),
    ]


def _prints() -> list[EquityPrint]:
    return [
        equity_print(500, "100.01", 5_000),  # MID, $500k: absorbed block
        equity_print(1_000, "100.03", 800),  # at the ask of the quote at 1 000 ms (same time: in force)
        equity_print(1_200, "100.03", 800),
        equity_print(2_000, "100.03", 900, venue="XNAS", off_exchange=False),  # lit: no dark evidence
        equity_print(2_400, "100.03", 800),
        equity_print(3_000, "100.04", 800),  # fourth dark buy: stealth accumulation
        equity_print(8_000, "100.02", 10),  # odd lot
        equity_print(12_000, "100.00", 300),
        equity_print(19_000, "100.00", 300),  # quote at 11 900 ms: stale
    ]


QUOTES = _quotes()
PRINTS = _prints()


def _run(events: list[AnyEvent], engine: EquitiesEngine | None = None) -> list[EquitiesOutput]:
    engine = engine or EquitiesEngine(CONFIG)
    return engine.on_events(events) + engine.on_eof()


def _merged() -> list[AnyEvent]:
    """Quotes and prints in time order, a quote before a print at the same time."""
    events: list[EquityQuote | EquityPrint] = [*QUOTES, *PRINTS]
    return sorted(events, key=lambda e: (e.ts_event, e.event_type != "equity_quote"))


def test_outputs_of_a_small_tape() -> None:
    out = _run(_merged())
    trades = [o for o in out if isinstance(o, EquityTrade)]
    assert [(t.placement, t.side) for t in trades] == [
        ("MID", "unknown"),
        ("A", "buy"),
        ("A", "buy"),
        ("A", "buy"),
        ("A", "buy"),
        ("A", "buy"),
        ("A", "buy"),
        ("B", "sell"),
        ("STALE", "unknown"),
    ]
    inferences = [o for o in out if isinstance(o, DarkInference)]
    assert [i.kind for i in inferences] == ["absorbed_block", "stealth_accumulation"]
    assert inferences[1].evidence_ids == tuple(p.print_id for p in trades[1:6] if p.off_exchange)
    assert trades[6].excluded_reasons == ("odd_lot",)
    candles = [o for o in out if isinstance(o, Candle)]
    one_minute = [c for c in candles if c.interval == "1m"]
    assert [(c.volume_shares, c.trade_count, c.off_exchange_volume_shares) for c in one_minute] == [(9_710, 9, 8_810)]
    assert any(isinstance(o, DarkLevel) for o in out)


def test_per_print_output_order() -> None:
    out = _run(_merged())
    first = out[:3]
    assert [type(o).__name__ for o in first] == ["EquityTrade", "DarkInference", "DarkLevel"]
    assert first[1].evidence_ids == (first[0].print_id,)  # type: ignore[union-attr]
    # Trades come out in print order; an inference follows the trade that completed it.
    for i, o in enumerate(out):
        if isinstance(o, DarkInference):
            previous_trade = next(p for p in reversed(out[:i]) if isinstance(p, EquityTrade))
            assert previous_trade.print_id == o.evidence_ids[-1]
    # End of input: the remaining dark levels, then the remaining candles, shortest interval first.
    engine = EquitiesEngine(CONFIG)
    engine.on_events(_merged())
    eof = engine.on_eof()
    kinds = [type(o).__name__ for o in eof]
    assert kinds == sorted(kinds, key=lambda k: k != "DarkLevel")
    assert kinds[-1] == "Candle"
    assert [c.interval for c in eof if isinstance(c, Candle)][-3:] == ["1m", "5m", "15m"]


def test_interleaving_of_the_two_topics_does_not_matter() -> None:
    expected = _run(_merged())
    quotes_first = _run([*QUOTES, *PRINTS])
    prints_first = _run([*PRINTS, *QUOTES])
    assert quotes_first == expected
    assert prints_first == expected


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_interleaving_gives_the_same_outputs(seed: int) -> None:
    """Any merge of the quote and print topics, each in its own order, yields the same derived events."""
    quotes, prints = QUOTES, PRINTS
    rng = random.Random(seed)
    picks = [True] * len(quotes) + [False] * len(prints)
    rng.shuffle(picks)
    qi, pi = iter(quotes), iter(prints)
    merged: list[AnyEvent] = [next(qi) if q else next(pi) for q in picks]
    assert _run(merged) == _run(_merged())


def test_prints_wait_for_a_strictly_later_quote() -> None:
    engine = EquitiesEngine(CONFIG)
    assert engine.on_event(equity_quote(0, "10.00", "10.02")) == []
    assert engine.on_event(equity_print(5, "10.02", 100)) == []  # no quote after 5 ms yet
    assert engine.pending_prints == 1
    assert engine.on_event(equity_quote(5, "10.04", "10.06")) == []  # same time: may be in force, still waiting
    out = engine.on_event(equity_quote(6, "10.10", "10.12"))
    (joined,) = [o for o in out if isinstance(o, EquityTrade)]
    assert (joined.placement, joined.bid_e9) == ("BB", 10_040_000_000)  # the quote at 5 ms, not at 6 ms
    assert engine.pending_prints == 0


def test_prints_with_the_providers_quote_do_not_wait() -> None:
    engine = EquitiesEngine(CONFIG)
    out = engine.on_event(equity_print(5, "10.02", 100, quote=("10.00", "10.02")))
    assert [(o.placement, o.quote_age_ns) for o in out if isinstance(o, EquityTrade)] == [("A", 0)]


def test_end_of_input_joins_waiting_prints_and_closes_everything() -> None:
    engine = EquitiesEngine(CONFIG)
    engine.on_event(equity_quote(0, "10.00", "10.02"))
    engine.on_event(equity_print(5, "10.01", 100))
    out = engine.on_eof()
    assert isinstance(out[0], EquityTrade)
    assert out[0].placement == "MID"
    assert [c.interval for c in out if isinstance(c, Candle)] == ["1s", "5s", "1m", "5m", "15m"]


def test_same_input_same_ids() -> None:
    tape = _merged()
    first, second = _run(tape), _run(tape)
    assert [o.id for o in first] == [o.id for o in second]
    assert len({o.id for o in first if not isinstance(o, DarkLevel)}) == len(
        [o for o in first if not isinstance(o, DarkLevel)]
    )


def test_adv_reaches_the_dark_inference() -> None:
    without = [o for o in _run(_merged()) if isinstance(o, DarkInference)]
    engine = EquitiesEngine(CONFIG, {"SPY": 1_000_000})
    with_adv = [o for o in _run(_merged(), engine) if isinstance(o, DarkInference)]
    assert [i.adv_shares for i in with_adv] == [1_000_000, 1_000_000]
    assert all(w.confidence > n.confidence for w, n in zip(with_adv, without, strict=True))
    engine = EquitiesEngine(CONFIG)
    engine.set_adv("SPY", 1_000_000)
    assert [i.adv_shares for i in _run(_merged(), engine) if isinstance(i, DarkInference)] == [1_000_000] * 2


def test_adv_comes_as_a_stock_scope_volume_baseline() -> None:
    engine = EquitiesEngine(CONFIG)
    assert engine.on_events([equity_adv("SPY", 1_000_000.4), volume_baseline()]) == []
    assert engine.dark.adv("SPY") == 1_000_000, "the contract-scope baseline is the options engine's"
    assert [i.adv_shares for i in _run(_merged(), engine) if isinstance(i, DarkInference)] == [1_000_000] * 2
    engine.on_events([equity_adv("SPY", 0.0)])
    assert engine.dark.adv("SPY") is None, "a stock that never traded has no ADV"


def test_other_event_types_are_ignored() -> None:
    engine = EquitiesEngine(CONFIG)
    assert engine.on_events([quote(0, "1.00", "1.10"), trade(1, "1.05", 10)]) == []
    assert engine.events_in == 2


def test_late_prints_are_counted() -> None:
    engine = EquitiesEngine(CONFIG)
    engine.on_events([equity_print(10_000, "10", 100, quote=("9.99", "10.01"))])
    engine.on_events([equity_print(1_000, "10", 100, quote=("9.99", "10.01"))])
    assert engine.late_prints["1s"] == 1
    assert engine.late_prints["15m"] == 0


def test_on_runs_is_on_events_concatenated() -> None:
    tape = _merged()
    engine = EquitiesEngine(CONFIG)
    runs = engine.on_runs([tape[:5], tape[5:]]) + engine.on_eof()
    assert runs == _run(tape)


def test_a_pickled_engine_resumes_exactly() -> None:
    """Flows snapshot the engine itself (recovery): a restored copy continues with the same outputs."""
    tape = _merged()
    for cut in (3, 7, 11):
        engine = EquitiesEngine(CONFIG, {"SPY": 2_000_000})
        head = engine.on_events(tape[:cut])
        restored = pickle.loads(pickle.dumps(engine))
        assert head + restored.on_events(tape[cut:]) + restored.on_eof() == _run(
            tape, EquitiesEngine(CONFIG, {"SPY": 2_000_000})
        )


# ------------------------------------------------------------------------------------ idle timer


def test_idle_closes_a_quiet_underlyings_candle_after_the_allowed_lateness() -> None:
    engine = EquitiesEngine(CONFIG)
    engine.on_events([equity_quote(0, "100.00", "100.02"), equity_print(500, "100.01", 300)])
    assert engine.pending_prints == 1, "waits for the quote stream to pass 500 ms"
    assert engine.next_due_ns() == ts(500)
    joined = engine.on_idle(ts(500))
    assert [type(o) for o in joined] == [EquityTrade, DarkLevel], "its 1 s candle ends at 1 000 ms, 2 s lateness to go"
    assert engine.pending_prints == 0
    assert engine.next_due_ns() == ts(1_000 + 2_000)
    (candle,) = engine.on_idle(ts(3_000))
    assert isinstance(candle, Candle)
    assert (candle.interval, candle.window_start_ns, candle.volume_shares) == ("1s", ts(0), 300)
    assert engine.event_time_ns == ts(3_000)


def test_idle_wake_ups_close_every_candle_end_of_input_closes_and_never_spin() -> None:
    events = _merged()
    engine = EquitiesEngine(CONFIG)
    out = engine.on_events(events) + idle_until_quiet(engine)
    assert engine.next_due_ns() is None
    assert [o for o in engine.on_eof() if isinstance(o, Candle)] == [], "idling closed every candle"
    at_eof = [o for o in _run(events) if isinstance(o, Candle | EquityTrade | DarkInference)]
    assert [o for o in out if isinstance(o, Candle | EquityTrade | DarkInference)] == at_eof


def test_a_print_behind_an_idle_advance_is_late() -> None:
    engine = EquitiesEngine(CONFIG)
    engine.on_events([equity_quote(0, "100.00", "100.02"), equity_print(500, "100.01", 300)])
    engine.on_idle(ts(10_000))
    engine.on_events([equity_print(1_500, "100.01", 300)])
    assert engine.late_prints["1s"] == 1
    assert engine.on_idle(ts(9_000)) == [], "an earlier time does not move the watermark back"
