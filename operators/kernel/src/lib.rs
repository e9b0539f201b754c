//! flowtape's options kernel: the per-print stages of `operators.options_engine.OptionsEngine` in one call per
//! batch of raw events.
//!
//! It does exactly what the readable Python operators do (they are the reference; a property test compares the
//! two on random tapes): the quote gating of `operators.tape_engine.QuoteGatedEngine`, the quote book, as-of join
//! and placement of `operators.nbbo_join`, the underlying price of `operators.underlying_price` and the clustering
//! and packet features of `operators.packets`. A call returns the records the Python engine acts on, in order:
//! a closed `Packet` (built by the hooks' `make_packet`), an `int` (the print watermark moved: the packet
//! watermark `keep_from`, at which the engine advances structures and flow context) or a reference event (to
//! apply in Python; the kernel has applied its own part: an option definition's multiplier and contract).
//!
//! Python helps through a `hooks` object given to every call (never kept, so the state pickles on its own):
//! `scheduled(ts)` pops the scheduled reference events due at `ts` (returns them and the next one's time),
//! `day_of(ts)` gives the New York date ordinal and next midnight, `parse_occ(symbol)` parses an OSI symbol
//! (or None), `date_of(ordinal)` makes a `date`, `make_packet(fields)` builds the event (unless `make_parts` lets
//! the kernel build it itself: `make.rs`), `template` is the Packet field dict to copy and `scheduled_ids` the set
//! of scheduled events' ids. Fields are read out of the events' dicts by position (`fields.rs`).

mod book;
mod context;
mod flow;
mod equities;
mod fields;
mod make;
mod runs;
mod underlying;

use blake2::digest::{Update, VariableOutput};
use blake2::Blake2bVar;
use context::{Contexts, Seen};
use flow::{Contribution, FlowContexts, Report, FIELDS};
use book::{Book, Quote, CROSSED, MISSING, SIDE_BUY, SIDE_SELL, SIDE_UNKNOWN, STALE};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PySet, PyString, PyTuple};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use rustc_hash::FxHashMap as HashMap;
use std::collections::{BinaryHeap, VecDeque};
use underlying::{floor_div, Calendar, Mark, Underlying};

pub(crate) const NEVER: i64 = i64::MAX;
pub(crate) const MAX_PENDING_PRINTS: usize = 100_000;
const E9_PER_CENT: i128 = 10_000_000;
const NS_PER_MS: i64 = 1_000_000;
const COMPLEX_FLAGS: [&str; 4] = ["multi_leg", "stock_tied", "cross", "floor"];
const BLOCK_FLAGS: [&str; 2] = ["cross", "floor"];

#[derive(Serialize, Deserialize, Clone)]
struct Print {
    id: String,
    symbol: String,
    underlying: String,
    root: String,
    right: String,
    expiry: i32,
    strike: i64,
    ts: i64,
    price: i64,
    size: i64,
    venue: String,
    multiplier: i64,
    conditions: Vec<String>,
    nbbo_bid: Option<i64>,
    nbbo_ask: Option<i64>,
    nbbo_bid_size: Option<i64>,
    nbbo_ask_size: Option<i64>,
    nbbo_ts: Option<i64>,
    underlying_e9: Option<i64>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Placed {
    p: Print,
    placement: u8,
    side: u8,
    quote: Option<Quote>,
    tick: bool,
    complex: bool,
    late: bool,
}

/// A packet's underlying fields: price, implied (else quote), age (ms), parity strike.
type UnderFields = Option<(i64, bool, i64, Option<i64>)>;

#[derive(Serialize, Deserialize)]
struct Open {
    min_ts: i64,
    max_ts: i64,
    prints: Vec<Placed>,
    version: u64,
    under: UnderFields,
}

#[derive(Serialize, Deserialize, Clone)]
struct Params {
    lag_ns: i64,
    max_age_ns: i64,
    band_bp: i64,
    gap_ns: i64,
    window_ns: i64,
    parity_window_ns: i64,
    refresh_ns: i64,
    sweep_min_side_ratio: f64,
    block_min_contracts: i64,
    block_min_premium_cents: i64,
    default_multiplier: i64,
}

#[derive(Serialize, Deserialize)]
struct State {
    params: Params,
    pending: VecDeque<Print>,
    quote_wm: i64,
    second_wm: i64,
    print_wm: i64,
    keep_from: i64,
    scheduled_ns: i64,
    events_in: u64,
    late_prints: u64,
    book: Book,
    last_price: HashMap<String, i64>,
    under: Underlying,
    open: HashMap<String, Open>,
    deadlines: BinaryHeap<Reverse<(i64, String, u64)>>,
    multipliers: HashMap<String, i64>,
    versions: u64,
    contexts: Contexts,
    flow: FlowContexts,
    #[serde(skip)]
    contract_fields: HashMap<String, ContractFields>,
    /// The session interval last located: [lo, hi) -> (New York date ordinal, session bucket or -1).
    #[serde(skip)]
    session: (i64, i64, i32, i32),
}

struct Hooks<'py> {
    py: Python<'py>,
    scheduled: Bound<'py, PyAny>,
    day_of: Bound<'py, PyAny>,
    parse_occ: Bound<'py, PyAny>,
    date_of: Bound<'py, PyAny>,
    make_packet: Bound<'py, PyAny>,
    maker: Option<make::Maker<'py>>,
    template: Bound<'py, PyDict>,
    scheduled_ids: Bound<'py, PySet>,
}

impl<'py> Hooks<'py> {
    fn of(hooks: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = hooks.py();
        Ok(Hooks {
            py,
            scheduled: hooks.getattr(intern!(py, "scheduled"))?,
            day_of: hooks.getattr(intern!(py, "day_of"))?,
            parse_occ: hooks.getattr(intern!(py, "parse_occ"))?,
            date_of: hooks.getattr(intern!(py, "date_of"))?,
            make_packet: hooks.getattr(intern!(py, "make_packet"))?,
            maker: make::Maker::of(&hooks.getattr(intern!(py, "make_parts"))?)?,
            template: hooks.getattr(intern!(py, "template"))?.downcast_into::<PyDict>()?,
            scheduled_ids: hooks.getattr(intern!(py, "scheduled_ids"))?.downcast_into::<PySet>()?,
        })
    }
}

impl Calendar for Hooks<'_> {
    fn day_of(&self, ts: i64) -> PyResult<(i32, i64)> {
        self.day_of.call1((ts,))?.extract()
    }
    fn parse(&self, symbol: &str) -> PyResult<Option<(String, i32, String, i64, String)>> {
        self.parse_occ.call1((symbol,))?.extract()
    }
}

/// What one call works with: the hooks, the date objects met so far and the output records.
struct Ctx<'a, 'py> {
    hooks: &'a Hooks<'py>,
    dates: &'a mut HashMap<i32, PyObject>,
    strings: &'a mut HashMap<String, Py<PyString>>,
    out: &'a Bound<'py, PyList>,
}

/// Python strings given back on packets (contract fields, venues), made once each: at most this many are kept.
const MAX_CACHED_STRINGS: usize = 100_000;

fn cached_str<'py>(py: Python<'py>, strings: &mut HashMap<String, Py<PyString>>, text: &str) -> Bound<'py, PyString> {
    if let Some(found) = strings.get(text) {
        return found.bind(py).clone();
    }
    if strings.len() >= MAX_CACHED_STRINGS {
        strings.clear();
    }
    let made = PyString::new(py, text);
    strings.insert(text.to_owned(), made.clone().unbind());
    made
}

pub(crate) fn item<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    fields::value(d, key)
}

pub(crate) fn int(d: &Bound<'_, PyDict>, key: &Bound<'_, PyString>) -> PyResult<i64> {
    item(d, key)?.extract()
}

pub(crate) fn opt_int(d: &Bound<'_, PyDict>, key: &Bound<'_, PyString>) -> PyResult<Option<i64>> {
    let v = item(d, key)?;
    if v.is_none() {
        Ok(None)
    } else {
        Ok(Some(v.extract()?))
    }
}

pub(crate) fn string(d: &Bound<'_, PyDict>, key: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(item(d, key)?.downcast::<PyString>()?.to_str()?.to_owned())
}

/// An event's instance dict (its fields). Read through `PyObject_GenericGetDict`, as `object.__dict__` is, and not
/// through `getattr`: the models define `__getattr__`, which sends every attribute read through a slower hook.
pub(crate) fn fields_of<'py>(event: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    // SAFETY: `event` is a live object; the call returns a new reference to its dict, or NULL with an exception set.
    let dict = unsafe {
        Bound::from_owned_ptr_or_err(event.py(), pyo3::ffi::PyObject_GenericGetDict(event.as_ptr(), std::ptr::null_mut()))
    }?;
    Ok(dict.downcast_into::<PyDict>()?)
}

/// A `date`'s ordinal, keeping the object to give packets back (dates of one expiry are one object).
fn expiry_of(d: &Bound<'_, PyDict>, dates: &mut HashMap<i32, PyObject>) -> PyResult<i32> {
    let py = d.py();
    let obj = item(d, intern!(py, "expiry"))?;
    let ordinal: i32 = obj.call_method0(intern!(py, "toordinal"))?.extract()?;
    dates.entry(ordinal).or_insert_with(|| obj.unbind());
    Ok(ordinal)
}

/// A contract's (root, expiry ordinal, right, strike_e9): functions of its symbol (the models validate that the
/// fields agree with the OSI symbol), so they are read once per symbol.
type ContractFields = (String, i32, String, i64);

fn read_print(
    d: &Bound<'_, PyDict>,
    dates: &mut HashMap<i32, PyObject>,
    contracts: &mut HashMap<String, ContractFields>,
) -> PyResult<Print> {
    let py = d.py();
    let mut conditions = Vec::new();
    let flags = item(d, intern!(py, "conditions"))?;
    if flags.len()? > 0 {
        for flag in flags.try_iter()? {
            conditions.push(flag?.downcast::<PyString>()?.to_str()?.to_owned());
        }
    }
    let symbol = string(d, intern!(py, "symbol"))?;
    let (root, expiry, right, strike) = match contracts.get(&symbol) {
        Some(fields) => fields.clone(),
        None => {
            let fields = (
                string(d, intern!(py, "root"))?,
                expiry_of(d, dates)?,
                string(d, intern!(py, "right"))?,
                int(d, intern!(py, "strike_e9"))?,
            );
            contracts.insert(symbol.clone(), fields.clone());
            fields
        }
    };
    // The quote carried on the print counts only with its ask (`NbboJoin.on_print`, `UnderlyingPrice.on_print`).
    let nbbo_ask = opt_int(d, intern!(py, "nbbo_ask_e9"))?;
    let (nbbo_bid, nbbo_bid_size, nbbo_ask_size, nbbo_ts) = if nbbo_ask.is_some() {
        (
            opt_int(d, intern!(py, "nbbo_bid_e9"))?,
            opt_int(d, intern!(py, "nbbo_bid_size_contracts"))?,
            opt_int(d, intern!(py, "nbbo_ask_size_contracts"))?,
            opt_int(d, intern!(py, "nbbo_ts"))?,
        )
    } else {
        (None, None, None, None)
    };
    Ok(Print {
        id: string(d, intern!(py, "id"))?,
        symbol,
        underlying: string(d, intern!(py, "underlying"))?,
        root,
        right,
        expiry,
        strike,
        ts: int(d, intern!(py, "ts_event"))?,
        price: int(d, intern!(py, "price_e9"))?,
        size: int(d, intern!(py, "size_contracts"))?,
        venue: string(d, intern!(py, "venue"))?,
        multiplier: int(d, intern!(py, "multiplier"))?,
        conditions,
        nbbo_bid,
        nbbo_ask,
        nbbo_bid_size,
        nbbo_ask_size,
        nbbo_ts,
        underlying_e9: opt_int(d, intern!(py, "underlying_e9"))?,
    })
}

/// A placement's name (`events.models.PLACEMENTS`, in the order of the `book` constants).
pub(crate) fn placement_name(py: Python<'_>, placement: u8) -> &Bound<'_, PyString> {
    match placement {
        0 => intern!(py, "AA"),
        1 => intern!(py, "A"),
        2 => intern!(py, "MID"),
        3 => intern!(py, "B"),
        4 => intern!(py, "BB"),
        5 => intern!(py, "MISSING"),
        6 => intern!(py, "STALE"),
        _ => intern!(py, "CROSSED"),
    }
}

fn packet_id(print_ids: &[&str]) -> String {
    derived_id("packet", print_ids)
}

/// `events.ids.derived_event_id`: blake2b (16 bytes, hex) of the kind and the input ids joined by 0x1f.
pub(crate) fn derived_id(kind: &str, print_ids: &[&str]) -> String {
    let mut hasher = Blake2bVar::new(16).expect("16 is a valid blake2b digest size");
    hasher.update(kind.as_bytes());
    for id in print_ids {
        hasher.update(b"\x1f");
        hasher.update(id.as_bytes());
    }
    let mut digest = [0u8; 16];
    hasher.finalize_variable(&mut digest).expect("digest size matches");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(32);
    for byte in digest {
        text.push(HEX[(byte >> 4) as usize] as char);
        text.push(HEX[(byte & 15) as usize] as char);
    }
    text
}

/// `events.units.notional_cents(raw, 1, 1)`: half-up rounding to cents, symmetric around zero.
pub(crate) fn notional_cents(raw: i128) -> i128 {
    if raw >= 0 {
        (raw + E9_PER_CENT / 2) / E9_PER_CENT
    } else {
        -((-raw + E9_PER_CENT / 2) / E9_PER_CENT)
    }
}

impl State {
    fn new(params: Params, contexts: Contexts) -> Self {
        let lag = params.lag_ns;
        State {
            contexts,
            flow: FlowContexts::new(Vec::new(), 1, usize::MAX, i64::MAX, 0.0, i64::MAX, 1),
            session: (0, 0, 0, -1),
            book: Book::new(params.max_age_ns),
            under: Underlying::new(params.parity_window_ns, params.refresh_ns),
            params,
            pending: VecDeque::new(),
            quote_wm: -1,
            second_wm: NEVER,
            print_wm: -1,
            keep_from: -1 - lag,
            scheduled_ns: NEVER,
            events_in: 0,
            late_prints: 0,
            last_price: HashMap::default(),
            open: HashMap::default(),
            deadlines: BinaryHeap::new(),
            multipliers: HashMap::default(),
            versions: 0,
            contract_fields: HashMap::default(),
        }
    }

    // ------------------------------------------------------------------ gating (QuoteGatedEngine)

    fn consume(&mut self, events: &Bound<'_, PyAny>, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let py = cx.hooks.py;
        let mut count = 0u64;
        for event in events.try_iter()? {
            let event = event?;
            count += 1;
            let d = fields_of(&event)?;
            let event_type = item(&d, intern!(py, "event_type"))?;
            let event_type = event_type.downcast::<PyString>()?.to_str()?;
            match event_type {
                "option_nbbo" => {
                    let ts = int(&d, intern!(py, "ts_event"))?;
                    let quote = Quote {
                        ts,
                        bid: int(&d, intern!(py, "bid_e9"))?,
                        ask: int(&d, intern!(py, "ask_e9"))?,
                        bid_size: int(&d, intern!(py, "bid_size_contracts"))?,
                        ask_size: int(&d, intern!(py, "ask_size_contracts"))?,
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
                        self.release(cx)?;
                    }
                }
                "option_print" => {
                    let trade = read_print(&d, cx.dates, &mut self.contract_fields)?;
                    let ts = trade.ts;
                    if self.pending.is_empty()
                        && (trade.nbbo_ask.is_some() || ts < self.quote_wm)
                        && ts < self.second_wm
                    {
                        self.take(trade, cx)?;
                    } else {
                        self.pending.push_back(trade);
                        if self.pending.len() > MAX_PENDING_PRINTS {
                            let oldest = self.pending.pop_front().expect("pending is not empty");
                            self.take(oldest, cx)?;
                        } else {
                            self.release(cx)?;
                        }
                    }
                }
                "equity_quote" => {
                    let ts = int(&d, intern!(py, "ts_event"))?;
                    let symbol = item(&d, intern!(py, "symbol"))?;
                    let symbol = symbol.downcast::<PyString>()?.to_str()?;
                    let bid = int(&d, intern!(py, "bid_e9"))?;
                    let ask = int(&d, intern!(py, "ask_e9"))?;
                    self.under.on_equity_quote(symbol, ts, bid, ask, self.keep_from);
                    if self.second_wm == NEVER || ts > self.second_wm {
                        self.second_wm = ts;
                    }
                    if !self.pending.is_empty() {
                        self.release(cx)?;
                    }
                }
                _ => {
                    let id = item(&d, intern!(py, "id"))?;
                    if !cx.hooks.scheduled_ids.contains(id)? {
                        self.reference(&event, cx)?;
                    }
                }
            }
        }
        self.events_in += count;
        Ok(())
    }

    fn release(&mut self, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        while let Some(front) = self.pending.front() {
            if (front.ts >= self.quote_wm && front.nbbo_ask.is_none()) || front.ts >= self.second_wm {
                return Ok(());
            }
            let trade = self.pending.pop_front().expect("front exists");
            self.take(trade, cx)?;
        }
        Ok(())
    }

    fn drain(&mut self, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        while let Some(trade) = self.pending.pop_front() {
            self.take(trade, cx)?;
        }
        Ok(())
    }

    fn take(&mut self, trade: Print, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        if trade.ts >= self.scheduled_ns {
            self.apply_scheduled(trade.ts, cx)?;
        }
        self.process(trade, cx)
    }

    fn apply_scheduled(&mut self, ts: i64, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let (due, next): (Bound<'_, PyList>, i64) = cx.hooks.scheduled.call1((ts,))?.extract()?;
        for event in due.iter() {
            self.reference(&event, cx)?;
        }
        self.scheduled_ns = next;
        Ok(())
    }

    /// A reference event: apply the kernel's part (an option definition's multiplier and contract), then hand it
    /// to Python in order.
    fn reference(&mut self, event: &Bound<'_, PyAny>, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let py = cx.hooks.py;
        let d = fields_of(event)?;
        let event_type = item(&d, intern!(py, "event_type"))?;
        if event_type.downcast::<PyString>()?.to_str()? == "option_definition" {
            let symbol = string(&d, intern!(py, "symbol"))?;
            self.multipliers.insert(symbol.clone(), int(&d, intern!(py, "multiplier"))?);
            let expiry = expiry_of(&d, cx.dates)?;
            self.under.add_contract(
                &symbol,
                &string(&d, intern!(py, "underlying"))?,
                &string(&d, intern!(py, "root"))?,
                expiry,
                &string(&d, intern!(py, "right"))?,
                int(&d, intern!(py, "strike_e9"))?,
            );
        }
        cx.out.append(event)
    }

    // ------------------------------------------------------------------- the print (OptionsEngine._process)

    fn process(&mut self, trade: Print, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let ts = trade.ts;
        let late = ts < self.keep_from;
        self.late_prints += late as u64;
        self.under.on_print(
            &trade.symbol,
            &trade.underlying,
            &trade.root,
            trade.expiry,
            &trade.right,
            trade.strike,
            ts,
            (trade.nbbo_bid, trade.nbbo_ask, trade.nbbo_ts),
        );
        let placed = self.join(trade, late);
        self.add(placed, cx)?;
        if ts > self.print_wm {
            self.print_wm = ts;
            self.keep_from = ts - self.params.lag_ns;
            self.advance(self.keep_from, cx)?;
            cx.out.append(self.keep_from)?;
        }
        Ok(())
    }

    /// `NbboJoin.on_print`.
    fn join(&mut self, trade: Print, late: bool) -> Placed {
        let quote = match (trade.nbbo_bid, trade.nbbo_ask) {
            (Some(bid), Some(ask)) => Some(Quote {
                ts: trade.nbbo_ts.unwrap_or(trade.ts),
                bid,
                ask,
                bid_size: trade.nbbo_bid_size.unwrap_or(0),
                ask_size: trade.nbbo_ask_size.unwrap_or(0),
            }),
            _ => None,
        };
        let quote = quote.or_else(|| self.book.as_of(&trade.symbol, trade.ts));
        let prev = self.last_price.get(&trade.symbol).copied();
        let p = &self.params;
        let (placement, tick) = book::place(trade.price, quote, trade.ts, p.max_age_ns, p.band_bp, prev);
        match self.last_price.get_mut(&trade.symbol) {
            Some(last) => *last = trade.price,
            None => {
                self.last_price.insert(trade.symbol.clone(), trade.price);
            }
        }
        let complex = trade.conditions.iter().any(|c| COMPLEX_FLAGS.contains(&c.as_str()));
        let side = if complex { SIDE_UNKNOWN } else { book::side_of(placement) };
        Placed { p: trade, placement, side, quote, tick, complex, late }
    }

    // ---------------------------------------------------------------------- clustering (PacketClusterer)

    fn add(&mut self, placed: Placed, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let ts = placed.p.ts;
        let (gap, window) = (self.params.gap_ns, self.params.window_ns);
        let close = match self.open.get(&placed.p.symbol) {
            Some(cur) => ts - cur.max_ts > gap || cur.max_ts.max(ts) - cur.min_ts.min(ts) > window,
            None => false,
        };
        if close {
            let symbol = placed.p.symbol.clone();
            self.close(&symbol, cx)?;
        }
        self.versions += 1;
        let version = self.versions;
        let deadline;
        let symbol;
        if let Some(cur) = self.open.get_mut(&placed.p.symbol) {
            symbol = placed.p.symbol.clone();
            cur.prints.push(placed);
            cur.min_ts = cur.min_ts.min(ts);
            cur.max_ts = cur.max_ts.max(ts);
            cur.version = version;
            deadline = cur.max_ts + gap;
        } else {
            let mark: Option<Mark> =
                self.under.for_print(&mut self.book, cx.hooks, placed.p.underlying_e9, &placed.p.underlying, ts)?;
            // What the lookup dropped as expired when the date turned (`OptionsEngine._forget_quoted`).
            for expired in self.under.expired.drain(..) {
                self.last_price.remove(&expired);
                self.multipliers.remove(&expired);
                self.contract_fields.remove(&expired);
            }
            let under = mark.map(|m| (m.price, m.implied, (ts - m.quote_ts).max(0) / NS_PER_MS, m.strike));
            symbol = placed.p.symbol.clone();
            deadline = ts + gap;
            self.open.insert(symbol.clone(), Open { min_ts: ts, max_ts: ts, prints: vec![placed], version, under });
        }
        self.deadlines.push(Reverse((deadline, symbol, version)));
        Ok(())
    }

    fn advance(&mut self, watermark: i64, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        while let Some(Reverse(top)) = self.deadlines.peek() {
            if top.0 >= watermark {
                break;
            }
            let Reverse((_, symbol, version)) = self.deadlines.pop().expect("peeked");
            if self.open.get(&symbol).is_some_and(|cur| cur.version == version) {
                self.close(&symbol, cx)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        self.advance(NEVER, cx)?;
        let mut rest: Vec<String> = self.open.keys().cloned().collect();
        rest.sort();
        for symbol in rest {
            self.close(&symbol, cx)?;
        }
        self.deadlines.clear();
        Ok(())
    }

    fn next_deadline_ns(&mut self) -> Option<i64> {
        while let Some(Reverse((deadline, symbol, version))) = self.deadlines.peek() {
            if self.open.get(symbol).is_some_and(|cur| cur.version == *version) {
                return Some(*deadline);
            }
            self.deadlines.pop();
        }
        None
    }

    fn close(&mut self, symbol: &str, cx: &mut Ctx<'_, '_>) -> PyResult<()> {
        let mut current = self.open.remove(symbol).expect("closing an open packet");
        let multiplier = self.multipliers.get(symbol).copied();
        let packet = self.build(&mut current.prints, multiplier, current.under, cx)?;
        cx.out.append(packet)
    }

    /// (New York date ordinal, session bucket or -1) of a time (`SessionClock.locate`, one call per interval).
    fn locate(&mut self, ts: i64, session: &Bound<'_, PyAny>) -> PyResult<(i32, i32)> {
        let (lo, hi, day, bucket) = self.session;
        if lo <= ts && ts < hi {
            return Ok((day, bucket));
        }
        self.session = session.call1((ts,))?.extract()?;
        Ok((self.session.2, self.session.3))
    }

    /// `packets._build_many` (its one-print path `_build_single` computes the same).
    fn build<'py>(
        &self,
        prints: &mut [Placed],
        multiplier: Option<i64>,
        under: UnderFields,
        cx: &mut Ctx<'_, 'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cx.hooks.py;
        let params = &self.params;
        prints.sort_by_key(|placed| placed.p.ts); // stable: ties keep arrival order
        let first = &prints[0].p;
        let last = &prints[prints.len() - 1].p;
        let mult = match multiplier {
            Some(m) if m != 0 => m,
            _ if first.multiplier != 0 => first.multiplier,
            _ => params.default_multiplier,
        };
        let mut tallies: Vec<(u8, i64, i64)> = Vec::with_capacity(2); // placement, prints, contracts
        let mut venues: Vec<&str> = Vec::with_capacity(2);
        let mut conditions: Vec<&str> = Vec::new();
        let (mut total, mut buy, mut sell, mut notional) = (0i64, 0i64, 0i64, 0i128);
        let (mut iso, mut block_flag) = (false, false);
        let (mut complex_prints, mut tick_prints, mut late_prints) = (0i64, 0i64, 0i64);
        let (mut min_px, mut max_px) = (first.price, first.price);
        let mut ids: Vec<&str> = Vec::with_capacity(prints.len());
        for placed in prints.iter() {
            let trade = &placed.p;
            ids.push(&trade.id);
            match tallies.iter_mut().find(|t| t.0 == placed.placement) {
                Some(t) => {
                    t.1 += 1;
                    t.2 += trade.size;
                }
                None => tallies.push((placed.placement, 1, trade.size)),
            }
            if !venues.contains(&trade.venue.as_str()) {
                venues.push(&trade.venue);
            }
            for flag in &trade.conditions {
                conditions.push(flag);
                iso = iso || flag == "iso";
                block_flag = block_flag || BLOCK_FLAGS.contains(&flag.as_str());
            }
            total += trade.size;
            notional += trade.price as i128 * trade.size as i128;
            if trade.price < min_px {
                min_px = trade.price;
            } else if trade.price > max_px {
                max_px = trade.price;
            }
            if placed.side == SIDE_BUY {
                buy += trade.size;
            } else if placed.side == SIDE_SELL {
                sell += trade.size;
            }
            complex_prints += placed.complex as i64;
            tick_prints += placed.tick as i64;
            late_prints += placed.late as i64;
        }
        tallies.sort_by_key(|t| t.0);
        conditions.sort_unstable();
        conditions.dedup();
        let size_of = |placement: u8| tallies.iter().find(|t| t.0 == placement).map_or(0, |t| t.2);
        let premium_cents = notional_cents(notional * mult as i128) as i64;
        let ratio = params.sweep_min_side_ratio;
        let side = if buy as f64 >= ratio * total as f64 {
            "buy"
        } else if sell as f64 >= ratio * total as f64 {
            "sell"
        } else {
            "unknown"
        };
        let kind = if prints.len() == 1 {
            if total >= params.block_min_contracts || premium_cents >= params.block_min_premium_cents || block_flag {
                "block"
            } else {
                "single"
            }
        } else if (venues.len() >= 2 || iso) && side != "unknown" {
            "sweep"
        } else if venues.len() == 1 {
            "split"
        } else {
            "single"
        };
        let quote = prints[0].quote;
        let unquoted = size_of(MISSING) + size_of(STALE) + size_of(CROSSED);
        let (bid_size, ask_size) = quote.map_or((0, 0), |q| (q.bid_size, q.ask_size));
        let touch: Option<f64> = if side == "buy" && ask_size > 0 {
            Some((size_of(book::A) + size_of(book::AA)) as f64 / ask_size as f64)
        } else if side == "sell" && bid_size > 0 {
            Some((size_of(book::B) + size_of(book::BB)) as f64 / bid_size as f64)
        } else {
            None
        };
        let counts = PyDict::new(py);
        let sizes = PyDict::new(py);
        for &(placement, n, contracts) in &tallies {
            let name = placement_name(py, placement);
            counts.set_item(name, n)?;
            if contracts != 0 {
                sizes.set_item(name, contracts)?;
            }
        }
        let expiry = match cx.dates.get(&first.expiry) {
            Some(date) => date.clone_ref(py),
            None => {
                let date = cx.hooks.date_of.call1((first.expiry,))?.unbind();
                cx.dates.insert(first.expiry, date.clone_ref(py));
                date
            }
        };
        let f = cx.hooks.template.copy()?;
        fields::put(&f, intern!(py, "id"), packet_id(&ids))?;
        fields::put(&f, intern!(py, "ts_event"), last.ts)?;
        fields::put(&f, intern!(py, "symbol"), cached_str(py, cx.strings, &first.symbol))?;
        fields::put(&f, intern!(py, "underlying"), cached_str(py, cx.strings, &first.underlying))?;
        fields::put(&f, intern!(py, "root"), cached_str(py, cx.strings, &first.root))?;
        fields::put(&f, intern!(py, "expiry"), expiry)?;
        fields::put(&f, intern!(py, "right"), cached_str(py, cx.strings, &first.right))?;
        fields::put(&f, intern!(py, "strike_e9"), first.strike)?;
        fields::put(&f, intern!(py, "multiplier"), mult)?;
        let kind = match kind {
            "block" => intern!(py, "block"),
            "single" => intern!(py, "single"),
            "sweep" => intern!(py, "sweep"),
            _ => intern!(py, "split"),
        };
        fields::put(&f, intern!(py, "kind"), kind)?;
        let side_str = match side {
            "buy" => intern!(py, "buy"),
            "sell" => intern!(py, "sell"),
            _ => intern!(py, "unknown"),
        };
        fields::put(&f, intern!(py, "side"), side_str)?;
        fields::put(&f, intern!(py, "ts_first"), first.ts)?;
        fields::put(&f, intern!(py, "ts_last"), last.ts)?;
        fields::put(&f, intern!(py, "span_ns"), last.ts - first.ts)?;
        fields::put(&f, intern!(py, "print_count"), prints.len())?;
        fields::put(&f, intern!(py, "venue_count"), venues.len())?;
        let venue_objs: Vec<Bound<'py, PyString>> = venues.iter().map(|v| cached_str(py, cx.strings, v)).collect();
        fields::put(&f, intern!(py, "venues"), PyTuple::new(py, venue_objs)?)?;
        fields::put(&f, intern!(py, "size_contracts"), total)?;
        fields::put(&f, intern!(py, "premium_cents"), premium_cents)?;
        let total128 = total as i128;
        fields::put(&f, intern!(py, "vwap_e9"), floor_div(notional + total128 / 2, total128) as i64)?;
        fields::put(&f, intern!(py, "first_price_e9"), first.price)?;
        fields::put(&f, intern!(py, "last_price_e9"), last.price)?;
        fields::put(&f, intern!(py, "min_price_e9"), min_px)?;
        fields::put(&f, intern!(py, "max_price_e9"), max_px)?;
        let path = if last.price > first.price {
            intern!(py, "rising")
        } else if last.price < first.price {
            intern!(py, "falling")
        } else {
            intern!(py, "flat")
        };
        fields::put(&f, intern!(py, "price_path"), path)?;
        fields::put(&f, intern!(py, "placement_counts"), counts)?;
        fields::put(&f, intern!(py, "placement_sizes"), sizes)?;
        fields::put(&f, intern!(py, "buy_size_contracts"), buy)?;
        fields::put(&f, intern!(py, "sell_size_contracts"), sell)?;
        fields::put(&f, intern!(py, "nbbo_coverage"), (total - unquoted) as f64 / total as f64)?;
        fields::put(&f, intern!(py, "stale_ratio"), size_of(STALE) as f64 / total as f64)?;
        fields::put(&f, intern!(py, "bid_e9"), quote.map(|q| q.bid))?;
        fields::put(&f, intern!(py, "ask_e9"), quote.map(|q| q.ask))?;
        fields::put(&f, intern!(py, "bid_size_contracts"), quote.map(|q| q.bid_size))?;
        fields::put(&f, intern!(py, "ask_size_contracts"), quote.map(|q| q.ask_size))?;
        fields::put(&f, intern!(py, "touch_size_ratio"), touch)?;
        let condition_objs: Vec<Bound<'py, PyString>> =
            conditions.iter().map(|c| cached_str(py, cx.strings, c)).collect();
        fields::put(&f, intern!(py, "conditions"), PyTuple::new(py, condition_objs)?)?;
        fields::put(&f, intern!(py, "complex_prints"), complex_prints)?;
        fields::put(&f, intern!(py, "tick_test_prints"), tick_prints)?;
        fields::put(&f, intern!(py, "late_prints"), late_prints)?;
        fields::put(&f, intern!(py, "underlying_e9"), under.map(|u| u.0))?;
        let source = under.map(|u| if u.1 { intern!(py, "implied") } else { intern!(py, "quote") });
        fields::put(&f, intern!(py, "underlying_source"), source)?;
        fields::put(&f, intern!(py, "underlying_age_ms"), under.map(|u| u.2))?;
        fields::put(&f, intern!(py, "underlying_strike_e9"), under.and_then(|u| u.3))?;
        fields::put(&f, intern!(py, "print_ids"), PyTuple::new(py, &ids)?)?;
        match &cx.hooks.maker {
            Some(maker) => maker.make(f),
            None => cx.hooks.make_packet.call1((f,)),
        }
    }
}

/// The options engine's per-print stages for one underlying (see the module docs).
#[pyclass(module = "operators.kernel._native")]
pub struct OptionsKernel {
    s: State,
    dates: HashMap<i32, PyObject>,
    strings: HashMap<String, Py<PyString>>,
}

impl OptionsKernel {
    fn run<'py, F>(&mut self, hooks: &Bound<'py, PyAny>, body: F) -> PyResult<Bound<'py, PyList>>
    where
        F: FnOnce(&mut State, &mut Ctx<'_, 'py>) -> PyResult<()>,
    {
        let hooks = Hooks::of(hooks)?;
        let out = PyList::empty(hooks.py);
        let mut cx = Ctx { hooks: &hooks, dates: &mut self.dates, strings: &mut self.strings, out: &out };
        if let Err(err) = body(&mut self.s, &mut cx) {
            return Err(with_records(hooks.py, err, &out));
        }
        Ok(out)
    }
}

#[pymethods]
impl OptionsKernel {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        lag_ns: i64,
        max_age_ns: i64,
        band_bp: i64,
        gap_ns: i64,
        window_ns: i64,
        parity_window_ns: i64,
        refresh_ns: i64,
        sweep_min_side_ratio: f64,
        block_min_contracts: i64,
        block_min_premium_cents: i64,
        default_multiplier: i64,
        context: (usize, usize, i64, i64),
    ) -> PyResult<Self> {
        if refresh_ns <= 0 {
            return Err(PyValueError::new_err("refresh_ns must be positive"));
        }
        let (rolling_window, min_samples, leg_floor, hit_floor_cents) = context;
        if rolling_window == 0 {
            return Err(PyValueError::new_err("the rolling window must hold at least one value"));
        }
        let params = Params {
            lag_ns,
            max_age_ns,
            band_bp,
            gap_ns,
            window_ns,
            parity_window_ns,
            refresh_ns,
            sweep_min_side_ratio,
            block_min_contracts,
            block_min_premium_cents,
            default_multiplier,
        };
        let contexts = Contexts::new(rolling_window, min_samples, leg_floor, hit_floor_cents);
        Ok(OptionsKernel { s: State::new(params, contexts), dates: HashMap::default(), strings: HashMap::default() })
    }

    /// Consume a batch of raw events in order; return the records (module docs).
    fn consume<'py>(&mut self, events: &Bound<'py, PyAny>, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, cx| s.consume(events, cx))
    }

    /// `on_idle`'s kernel part: scheduled events due, quote watermarks, drain, the print watermark. Returns the
    /// records and whether the print watermark moved (then the last record is its `int`).
    fn idle<'py>(&mut self, now_ns: i64, hooks: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyList>, bool)> {
        let mut advanced = false;
        let out = self.run(hooks, |s, cx| {
            if now_ns >= s.scheduled_ns {
                s.apply_scheduled(now_ns, cx)?;
            }
            if now_ns > s.quote_wm {
                s.quote_wm = now_ns;
            }
            if s.second_wm != NEVER && now_ns > s.second_wm {
                s.second_wm = now_ns;
            }
            s.drain(cx)?;
            if now_ns > s.print_wm {
                s.print_wm = now_ns;
                s.keep_from = now_ns - s.params.lag_ns;
                s.advance(s.keep_from, cx)?;
                cx.out.append(s.keep_from)?;
                advanced = true;
            }
            Ok(())
        })?;
        Ok((out, advanced))
    }

    /// Close the packets behind the packet watermark where it stands; the last record is its `int`.
    fn close_due<'py>(&mut self, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, cx| {
            s.advance(s.keep_from, cx)?;
            cx.out.append(s.keep_from)
        })
    }

    /// Process every waiting print, in order.
    fn drain<'py>(&mut self, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, cx| s.drain(cx))
    }

    /// Close every open packet (end of input), in deadline order.
    fn flush<'py>(&mut self, hooks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        self.run(hooks, |s, cx| s.flush(cx))
    }

    fn set_scheduled_ns(&mut self, ns: i64) {
        self.s.scheduled_ns = ns;
    }

    fn next_deadline_ns(&mut self) -> Option<i64> {
        self.s.next_deadline_ns()
    }

    #[getter]
    fn quote_wm(&self) -> i64 {
        self.s.quote_wm
    }
    #[getter]
    fn second_wm(&self) -> i64 {
        self.s.second_wm
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
    fn open_count(&self) -> usize {
        self.s.open.len()
    }
    #[getter]
    fn quoted_contracts(&self) -> usize {
        self.s.book.len()
    }
    #[getter]
    fn late_prints(&self) -> u64 {
        self.s.late_prints
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
        self.dates.clear();
        self.strings.clear();
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn __getnewargs__(&self) -> (i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, (usize, usize, i64, i64)) {
        let p = &self.s.params;
        (
            p.lag_ns,
            p.max_age_ns,
            p.band_bp,
            p.gap_ns,
            p.window_ns,
            p.parity_window_ns,
            p.refresh_ns,
            p.sweep_min_side_ratio,
            p.block_min_contracts,
            p.block_min_premium_cents,
            p.default_multiplier,
            self.s.contexts.params(),
        )
    }

    /// Count a closed packet in its contract's and underlying's context (`PacketContexts.on_packet`, the
    /// windows and volumes); return what Python needs of it, or None when the packet can neither matter nor be a
    /// structure leg. `session(ts)` locates a time (`operators.kernel.session_of`), called once per interval.
    #[allow(clippy::too_many_arguments)]
    fn packet_context<'py>(
        &mut self,
        py: Python<'py>,
        symbol: &str,
        underlying: &str,
        premium_cents: i64,
        size_contracts: i64,
        ts_event: i64,
        session: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let (day, bucket) = self.s.locate(ts_event, session)?;
        match self.s.contexts.on_packet(symbol, underlying, premium_cents, size_contracts, day, bucket) {
            Some(seen) => Ok(Some(seen_record(py, seen)?)),
            None => Ok(None),
        }
    }

    /// Set the flow-context windows (lengths in ns, in the settings' order) and rules; once, before any packet.
    #[allow(clippy::too_many_arguments)]
    fn set_flow(
        &mut self,
        lengths_ns: Vec<i64>,
        emit_ns: i64,
        compact_min: usize,
        large_cents: i64,
        poor_coverage: f64,
        exact_ns: i64,
        step_ns: i64,
    ) -> PyResult<()> {
        if lengths_ns.is_empty() || lengths_ns.iter().any(|&l| l <= 0) || emit_ns <= 0 || exact_ns <= 0 || step_ns <= 0
        {
            return Err(PyValueError::new_err(
                "flow context needs windows of positive length, an emit interval, an exact horizon and a step",
            ));
        }
        self.s.flow =
            FlowContexts::new(lengths_ns, emit_ns, compact_min, large_cents, poor_coverage, exact_ns, step_ns);
        Ok(())
    }

    /// `FlowContextTracker.on_packet`: add a closed packet (read from its fields) to its underlying's windows;
    /// return the reports due now (`flow_report`).
    fn flow_packet<'py>(&mut self, packet: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = packet.py();
        if !self.s.flow.is_set() {
            return Err(PyValueError::new_err("set_flow was not called"));
        }
        let d = fields_of(packet)?;
        let values = contribution(&d, self.s.flow.large_cents, self.s.flow.poor_coverage)?;
        let underlying = item(&d, intern!(py, "underlying"))?;
        let id = item(&d, intern!(py, "id"))?;
        let reports = self.s.flow.on_packet(
            underlying.downcast::<PyString>()?.to_str()?,
            id.downcast::<PyString>()?.to_str()?,
            int(&d, intern!(py, "ts_event"))?,
            values,
        );
        reports_list(py, reports)
    }

    /// `FlowContextTracker.advance`.
    fn flow_advance<'py>(&mut self, py: Python<'py>, watermark_ns: i64) -> PyResult<Bound<'py, PyList>> {
        let reports = self.s.flow.advance(watermark_ns);
        reports_list(py, reports)
    }

    /// `FlowContextTracker.flush`.
    fn flow_flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let reports = self.s.flow.flush();
        reports_list(py, reports)
    }

    /// `FlowContextTracker.current`.
    fn flow_current<'py>(&mut self, py: Python<'py>, underlying: &str) -> PyResult<Bound<'py, PyList>> {
        let reports = self.s.flow.current(underlying);
        reports_list(py, reports)
    }

    fn flow_next_change_ns(&self) -> Option<i64> {
        self.s.flow.next_change_ns()
    }

    fn flow_entry_count(&self) -> usize {
        self.s.flow.entry_count()
    }

    fn flow_late_packets(&self, underlying: &str) -> Vec<u64> {
        self.s.flow.late_packets(underlying)
    }

    /// Drop an expired contract's packet-context state (`PacketContexts.forget`).
    fn forget_contract(&mut self, symbol: &str) {
        self.s.contexts.forget(symbol);
    }

    /// (quote books, chain contracts, last prices, multipliers): the per-contract maps of the join, the
    /// underlying price and the clusterer (`OptionsEngine.state_counts`).
    fn contract_counts(&self) -> (usize, usize, usize, usize) {
        (self.s.book.len(), self.s.under.contract_count(), self.s.last_price.len(), self.s.multipliers.len())
    }

    /// (contracts, underlyings) with packet-context state.
    fn context_counts(&self) -> (usize, usize) {
        (self.s.contexts.contract_count(), self.s.contexts.underlying_count())
    }

    /// A rolling window's values, oldest first: a contract's `premium` or `size`, an underlying's `premium`.
    fn window_values(&self, key: &str, metric: &str) -> Option<Vec<i64>> {
        self.s.contexts.values(key, metric)
    }
}

/// An error raised part-way through a call, carrying the records the call made before it (`kernel_records`):
/// the kernel's state has moved past them, so the engine acts on them before it hands the error on.
pub(crate) fn with_records(py: Python<'_>, err: PyErr, out: &Bound<'_, PyList>) -> PyErr {
    // An exception without a __dict__ (none the kernel raises) keeps its records to itself.
    let _ = err.value(py).setattr(intern!(py, "kernel_records"), out);
    err
}

/// `flow_context.contribution`: a packet's contribution to every sum of `flow_context.FIELDS`.
fn contribution(d: &Bound<'_, PyDict>, large_cents: i64, poor_coverage: f64) -> PyResult<Contribution> {
    let py = d.py();
    let premium = int(d, intern!(py, "premium_cents"))?;
    let size = int(d, intern!(py, "size_contracts"))?;
    let right = item(d, intern!(py, "right"))?;
    let call = right.downcast::<PyString>()?.to_str()? == "C";
    let side_obj = item(d, intern!(py, "side"))?;
    let side = side_obj.downcast::<PyString>()?.to_str()?;
    let complex = int(d, intern!(py, "complex_prints"))?;
    let coverage: f64 = item(d, intern!(py, "nbbo_coverage"))?.extract()?;
    let directional = complex == 0 && side != "unknown" && coverage >= poor_coverage;
    let bullish = directional && (side == "buy") == call;
    let bearish = directional && !bullish;
    let sizes_obj = item(d, intern!(py, "placement_sizes"))?;
    let sizes = sizes_obj.downcast::<PyDict>()?;
    let size_at = |name: &Bound<'_, PyString>| -> PyResult<i64> {
        match sizes.get_item(name)? {
            Some(v) => v.extract(),
            None => Ok(0),
        }
    };
    let at_touch = size_at(intern!(py, "AA"))? + size_at(intern!(py, "A"))? + size_at(intern!(py, "B"))?
        + size_at(intern!(py, "BB"))?;
    let kind_obj = item(d, intern!(py, "kind"))?;
    let kind = kind_obj.downcast::<PyString>()?.to_str()?;
    let (sweep, block) = (kind == "sweep", kind == "block");
    let pick = |yes: bool, value: i64| if yes { value } else { 0 };
    let values: Contribution = [
        1,
        pick(call, size),
        pick(!call, size),
        pick(call, premium),
        pick(!call, premium),
        pick(side == "buy", premium),
        pick(side == "sell", premium),
        pick(bullish, premium),
        pick(bearish, premium),
        pick(complex > 0, premium),
        sweep as i64,
        block as i64,
        at_touch,
        at_touch + size_at(intern!(py, "MID"))?,
        pick(sweep, size),
        pick(block || premium >= large_cents, premium),
    ];
    debug_assert_eq!(values.len(), FIELDS);
    Ok(values)
}

/// Reports for Python: `[(underlying, window index, end ns, last packet id, [sums...]), ...]`.
fn reports_list(py: Python<'_>, reports: Vec<Report>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for (underlying, window, end, last_id, sums) in reports {
        let sums = PyList::new(py, sums.iter())?;
        out.append((underlying, window, end, last_id, sums))?;
    }
    Ok(out)
}

/// A packet's context for Python: (usual size, ((premium moments), (size moments)) or None, day volume, bucket
/// volume, bucket), moments being (count, sum, sum of squares).
fn seen_record(py: Python<'_>, seen: Seen) -> PyResult<Bound<'_, PyTuple>> {
    let scores = match seen.scores {
        Some((premium, size)) => Some((premium, size).into_pyobject(py)?.into_any()),
        None => None,
    };
    (seen.usual_size, scores, seen.day_volume, seen.bucket_volume, seen.bucket).into_pyobject(py)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    fields::init(m.py())?;
    m.add_class::<OptionsKernel>()?;
    m.add_class::<equities::EquitiesKernel>()?;
    m.add_function(wrap_pyfunction!(runs::runs_by_key, m)?)?;
    m.add_function(wrap_pyfunction!(runs::scan_stream, m)?)?;
    m.add_function(wrap_pyfunction!(fields::set_direct, m)?)?;
    Ok(())
}
