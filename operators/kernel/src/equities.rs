//! The equities engine's per-print stages (`operators.equities_engine.EquitiesEngine`): the quote gating of
//! `QuoteGatedEngine`, the quote book, as-of join and placement of `operators.equity_join` and the eligibility of
//! `operators.eligibility`, one call per batch. Records: an `EquityTrade` per print taken, in order (built by the
//! hooks' `make_trade`), and the reference events to apply in Python, in order.

use crate::book::{self, Book, Quote, SIDE_BUY, SIDE_SELL, STALE};
use crate::{derived_id, fields, fields_of, int, item, notional_cents, opt_int, placement_name, string, MAX_PENDING_PRINTS, NEVER};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PySet, PyString, PyTuple};
use serde::{Deserialize, Serialize};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

/// 2025-11-03 00:00 America/New_York in ns (`events.lots.ROUND_LOT_TIERS_SINCE_NS`).
const ROUND_LOT_TIERS_SINCE_NS: i64 = 1_762_146_000_000_000_000;
const PRICE_SCALE: i64 = 1_000_000_000;
const SIZE_EXCLUDING: [&str; 11] = [
    "odd_lot",
    "average_price",
    "derivatively_priced",
    "late",
    "out_of_sequence",
    "prior_reference_price",
    "contingent",
    "qct",
    "cash_settlement",
    "next_day_settlement",
    "seller_settlement",
];

#[derive(Serialize, Deserialize, Clone)]
struct EquityPrint {
    id: String,
    ts: i64,
    sequence: i64,
    symbol: String,
    venue: String,
    off_exchange: bool,
    price: i64,
    size: i64,
    conditions: Vec<String>,
    bid: Option<i64>,
    ask: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct State {
    lag_ns: i64,
    max_age_ns: i64,
    band_bp: i64,
    pending: VecDeque<EquityPrint>,
    quote_wm: i64,
    print_wm: i64,
    keep_from: i64,
    scheduled_ns: i64,
    events_in: u64,
    book: Book,
    last_price: HashMap<String, i64>,
}

struct Hooks<'py> {
    py: Python<'py>,
    scheduled: Bound<'py, PyAny>,
    make_trade: Bound<'py, PyAny>,
    maker: Option<crate::make::Maker<'py>>,
    template: Bound<'py, PyDict>,
    scheduled_ids: Bound<'py, PySet>,
    out: Bound<'py, PyList>,
}

/// `events.lots.round_lot_at`.
fn round_lot_at(price: i64, ts: i64) -> i64 {
    if ts < ROUND_LOT_TIERS_SINCE_NS {
        return 100;
    }
    if price <= 250 * PRICE_SCALE {
        100
    } else if price <= 1_000 * PRICE_SCALE {
        40
    } else if price <= 10_000 * PRICE_SCALE {
        10
    } else {
        1
    }
}

impl State {
    fn consume(&mut self, events: &Bound<'_, PyAny>, h: &Hooks<'_>) -> PyResult<()> {
        let py = h.py;
        let mut count = 0u64;
        for event in events.try_iter()? {
            let event = event?;
            count += 1;
            let d = fields_of(&event)?;
            let event_type = item(&d, intern!(py, "event_type"))?;
            match event_type.downcast::<PyString>()?.to_str()? {
                "equity_quote" => {
                    let ts = int(&d, intern!(py, "ts_event"))?;
                    let quote = Quote {
                        ts,
                        bid: int(&d, intern!(py, "bid_e9"))?,
                        ask: int(&d, intern!(py, "ask_e9"))?,
                        bid_size: int(&d, intern!(py, "bid_size_shares"))?,
                        ask_size: int(&d, intern!(py, "ask_size_shares"))?,
                    };
                    let symbol = item(&d, intern!(py, "symbol"))?;
                    let symbol = symbol.downcast::<PyString>()?.to_str()?;
                    let venue = item(&d, intern!(py, "venue"))?;
                    let venue = venue.downcast::<PyString>()?.to_str()?;
                    if venue != "NBBO" {
                        self.book.update_venue(symbol, venue, quote, self.keep_from);
                    } else {
                        self.book.insert(symbol, quote, self.keep_from);
                    }
                    if ts > self.quote_wm {
                        self.quote_wm = ts;
                    }
                    if !self.pending.is_empty() {
                        self.release(h)?;
                    }
                }
                "equity_print" => {
                    let trade = read_print(&d)?;
                    if self.pending.is_empty() && (trade.ask.is_some() || trade.ts < self.quote_wm) {
                        self.take(trade, h)?;
                    } else {
                        self.pending.push_back(trade);
                        if self.pending.len() > MAX_PENDING_PRINTS {
                            let oldest = self.pending.pop_front().expect("pending is not empty");
                            self.take(oldest, h)?;
                        } else {
                            self.release(h)?;
                        }
                    }
                }
                _ => {
                    let id = item(&d, intern!(py, "id"))?;
                    if !h.scheduled_ids.contains(id)? {
                        h.out.append(event)?;
                    }
                }
            }
        }
        self.events_in += count;
        Ok(())
    }

    fn release(&mut self, h: &Hooks<'_>) -> PyResult<()> {
        while let Some(front) = self.pending.front() {
            if front.ts >= self.quote_wm && front.ask.is_none() {
                return Ok(());
            }
            let trade = self.pending.pop_front().expect("front exists");
            self.take(trade, h)?;
        }
        Ok(())
    }

    fn drain(&mut self, h: &Hooks<'_>) -> PyResult<()> {
        while let Some(trade) = self.pending.pop_front() {
            self.take(trade, h)?;
        }
        Ok(())
    }

    fn apply_scheduled(&mut self, ts: i64, h: &Hooks<'_>) -> PyResult<()> {
        let (due, next): (Bound<'_, PyList>, i64) = h.scheduled.call1((ts,))?.extract()?;
        for event in due.iter() {
            h.out.append(event)?;
        }
        self.scheduled_ns = next;
        Ok(())
    }

    fn take(&mut self, trade: EquityPrint, h: &Hooks<'_>) -> PyResult<()> {
        if trade.ts >= self.scheduled_ns {
            self.apply_scheduled(trade.ts, h)?;
        }
        let record = self.join(&trade, h)?;
        h.out.append(record)?;
        if trade.ts > self.print_wm {
            self.print_wm = trade.ts;
            self.keep_from = trade.ts - self.lag_ns;
        }
        Ok(())
    }

    /// `EquityJoin.trade`: join, place, classify eligibility, build the `EquityTrade`.
    fn join<'py>(&mut self, trade: &EquityPrint, h: &Hooks<'py>) -> PyResult<Bound<'py, PyAny>> {
        let py = h.py;
        let quote = match (trade.bid, trade.ask) {
            (Some(bid), Some(ask)) => Some(Quote { ts: trade.ts, bid, ask, bid_size: 0, ask_size: 0 }),
            _ => None,
        };
        let quote = quote.or_else(|| self.book.as_of(&trade.symbol, trade.ts));
        let prev = self.last_price.get(&trade.symbol).copied();
        let (placement, tick) = book::place(trade.price, quote, trade.ts, self.max_age_ns, self.band_bp, prev);
        match self.last_price.get_mut(&trade.symbol) {
            Some(last) => *last = trade.price,
            None => {
                self.last_price.insert(trade.symbol.clone(), trade.price);
            }
        }
        // operators.eligibility.eligibility
        let lot = round_lot_at(trade.price, trade.ts);
        let odd = trade.size < lot;
        let (size_ok, last_sale_ok, reasons, priced_off) = if trade.conditions.is_empty() {
            (!odd, !odd, if odd { vec!["odd_lot"] } else { vec![] }, false)
        } else {
            let mut flags: Vec<&str> = trade.conditions.iter().map(String::as_str).collect();
            if odd {
                flags.push("odd_lot");
            }
            flags.sort_unstable();
            flags.dedup();
            let reasons: Vec<&str> =
                flags.iter().copied().filter(|f| SIZE_EXCLUDING.contains(f) || *f == "extended_hours").collect();
            let size_ok = !flags.iter().any(|f| SIZE_EXCLUDING.contains(f));
            let priced_off = flags.iter().any(|f| *f != "odd_lot" && SIZE_EXCLUDING.contains(f));
            (size_ok, size_ok && !flags.contains(&"extended_hours"), reasons, priced_off)
        };
        let side = if priced_off { book::SIDE_UNKNOWN } else { book::side_of(placement) };
        let f = h.template.copy()?;
        fields::put(&f, intern!(py, "id"), derived_id("equity_trade", &[&trade.id]))?;
        fields::put(&f, intern!(py, "ts_event"), trade.ts)?;
        fields::put(&f, intern!(py, "print_id"), &trade.id)?;
        fields::put(&f, intern!(py, "sequence"), trade.sequence)?;
        fields::put(&f, intern!(py, "symbol"), &trade.symbol)?;
        fields::put(&f, intern!(py, "underlying"), &trade.symbol)?;
        fields::put(&f, intern!(py, "venue"), &trade.venue)?;
        fields::put(&f, intern!(py, "off_exchange"), trade.off_exchange)?;
        fields::put(&f, intern!(py, "price_e9"), trade.price)?;
        fields::put(&f, intern!(py, "size_shares"), trade.size)?;
        let notional = notional_cents(trade.price as i128 * trade.size as i128);
        fields::put(&f, intern!(py, "notional_cents"), notional as i64)?;
        fields::put(&f, intern!(py, "conditions"), PyTuple::new(py, &trade.conditions)?)?;
        fields::put(&f, intern!(py, "placement"), placement_name(py, placement))?;
        let side = match side {
            SIDE_BUY => intern!(py, "buy"),
            SIDE_SELL => intern!(py, "sell"),
            _ => intern!(py, "unknown"),
        };
        fields::put(&f, intern!(py, "side"), side)?;
        fields::put(&f, intern!(py, "tick_test"), tick)?;
        fields::put(&f, intern!(py, "bid_e9"), quote.map(|q| q.bid))?;
        fields::put(&f, intern!(py, "ask_e9"), quote.map(|q| q.ask))?;
        fields::put(&f, intern!(py, "bid_size_shares"), quote.map(|q| q.bid_size))?;
        fields::put(&f, intern!(py, "ask_size_shares"), quote.map(|q| q.ask_size))?;
        fields::put(&f, intern!(py, "quote_age_ns"), quote.map(|q| trade.ts - q.ts))?;
        fields::put(&f, intern!(py, "stale"), placement == STALE)?;
        fields::put(&f, intern!(py, "round_lot_shares"), lot)?;
        fields::put(&f, intern!(py, "size_eligible"), size_ok)?;
        fields::put(&f, intern!(py, "last_sale_eligible"), last_sale_ok)?;
        fields::put(&f, intern!(py, "excluded_reasons"), PyTuple::new(py, &reasons)?)?;
        match &h.maker {
            Some(maker) => maker.make(f),
            None => h.make_trade.call1((f,)),
        }
    }
}

fn read_print(d: &Bound<'_, PyDict>) -> PyResult<EquityPrint> {
    let py = d.py();
    let mut conditions = Vec::new();
    let flags = item(d, intern!(py, "conditions"))?;
    if flags.len()? > 0 {
        for flag in flags.try_iter()? {
            conditions.push(flag?.downcast::<PyString>()?.to_str()?.to_owned());
        }
    }
    Ok(EquityPrint {
        id: string(d, intern!(py, "id"))?,
        ts: int(d, intern!(py, "ts_event"))?,
        sequence: int(d, intern!(py, "sequence"))?,
        symbol: string(d, intern!(py, "symbol"))?,
        venue: string(d, intern!(py, "venue"))?,
        off_exchange: item(d, intern!(py, "off_exchange"))?.extract()?,
        price: int(d, intern!(py, "price_e9"))?,
        size: int(d, intern!(py, "size_shares"))?,
        conditions,
        bid: opt_int(d, intern!(py, "bid_e9"))?,
        ask: opt_int(d, intern!(py, "ask_e9"))?,
    })
}

/// The equities engine's per-print stages for one underlying (see the module docs).
#[pyclass(module = "operators.kernel._native")]
pub struct EquitiesKernel {
    s: State,
}

impl EquitiesKernel {
    fn run<'py, F>(&mut self, hooks: &Bound<'py, PyAny>, body: F) -> PyResult<Bound<'py, PyList>>
    where
        F: FnOnce(&mut State, &Hooks<'py>) -> PyResult<()>,
    {
        let py = hooks.py();
        let h = Hooks {
            py,
            scheduled: hooks.getattr(intern!(py, "scheduled"))?,
            make_trade: hooks.getattr(intern!(py, "make_trade"))?,
            maker: crate::make::Maker::of(&hooks.getattr(intern!(py, "make_parts"))?)?,
            template: hooks.getattr(intern!(py, "template"))?.downcast_into::<PyDict>()?,
            scheduled_ids: hooks.getattr(intern!(py, "scheduled_ids"))?.downcast_into::<PySet>()?,
            out: PyList::empty(py),
        };
        if let Err(err) = body(&mut self.s, &h) {
            return Err(crate::with_records(py, err, &h.out));
        }
        Ok(h.out)
    }
}

#[pymethods]
impl EquitiesKernel {
    #[new]
    fn new(lag_ns: i64, max_age_ns: i64, band_bp: i64) -> Self {
        EquitiesKernel {
            s: State {
                lag_ns,
                max_age_ns,
                band_bp,
                pending: VecDeque::new(),
                quote_wm: -1,
                print_wm: -1,
                keep_from: -1 - lag_ns,
                scheduled_ns: NEVER,
                events_in: 0,
                book: Book::new(max_age_ns),
                last_price: HashMap::default(),
            },
        }
    }

    /// Consume a batch of raw events in order; return the records (module docs).
    fn consume<'py>(&mut self, events: &Bound<'py, PyAny>, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, h| s.consume(events, h))
    }

    /// `on_idle`'s kernel part: scheduled events due, the quote watermark, drain, the print watermark. Returns
    /// the records and whether the print watermark moved.
    fn idle<'py>(&mut self, now_ns: i64, hooks: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyList>, bool)> {
        let mut advanced = false;
        let out = self.run(hooks, |s, h| {
            if now_ns >= s.scheduled_ns {
                s.apply_scheduled(now_ns, h)?;
            }
            if now_ns > s.quote_wm {
                s.quote_wm = now_ns;
            }
            s.drain(h)?;
            if now_ns > s.print_wm {
                s.print_wm = now_ns;
                s.keep_from = now_ns - s.lag_ns;
                advanced = true;
            }
            Ok(())
        })?;
        Ok((out, advanced))
    }

    /// Process every waiting print, in order.
    fn drain<'py>(&mut self, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, h| s.drain(h))
    }

    fn set_scheduled_ns(&mut self, ns: i64) {
        self.s.scheduled_ns = ns;
    }

    #[getter]
    fn quote_wm(&self) -> i64 {
        self.s.quote_wm
    }
    #[getter]
    fn print_wm(&self) -> i64 {
        self.s.print_wm
    }
    #[getter]
    fn keep_from(&self) -> i64 {
        self.s.keep_from
    }
    #[getter]
    fn pending_count(&self) -> usize {
        self.s.pending.len()
    }
    #[getter]
    fn pending_first_ns(&self) -> Option<i64> {
        self.s.pending.front().map(|p| p.ts)
    }
    #[getter]
    fn pending_max_ns(&self) -> Option<i64> {
        self.s.pending.iter().map(|p| p.ts).max()
    }
    #[getter]
    fn events_in(&self) -> u64 {
        self.s.events_in
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = bincode::serialize(&self.s).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __setstate__(&mut self, state: &[u8]) -> PyResult<()> {
        self.s = bincode::deserialize(state).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(())
    }

    fn __getnewargs__(&self) -> (i64, i64, i64) {
        (self.s.lag_ns, self.s.max_age_ns, self.s.band_bp)
    }
}
