//! The underlying price at a print (`operators/underlying_price.py` `UnderlyingPrice`), exactly.
//!
//! Two things stay in Python, called through `Hooks` because they are rare: the New York date of a time (once a
//! day) and parsing an OSI symbol first seen in the option book.

use crate::book::{Book, MAX_QUOTE_HISTORY};
use serde::{Deserialize, Serialize};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub price: i64,
    pub implied: bool,
    pub quote_ts: i64,
    pub strike: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct Series {
    strikes: Vec<i64>,
    calls: HashMap<i64, String>,
    puts: HashMap<i64, String>,
}

type SeriesKey = (i32, String);

#[derive(Serialize, Deserialize)]
struct Chain {
    series: HashMap<SeriesKey, Series>,
    order: Vec<SeriesKey>,
    reference: Option<i64>,
    cache_bucket: i64,
    cache_ts: i64,
    cache_mark: Option<Mark>,
}

impl Chain {
    fn new() -> Self {
        Chain { series: HashMap::default(), order: Vec::new(), reference: None, cache_bucket: -1, cache_ts: 0, cache_mark: None }
    }
}

/// What the underlying price book asks Python (rare calls).
pub trait Calendar {
    /// (New York date ordinal, ns of the next New York midnight) of a time.
    fn day_of(&self, ts: i64) -> pyo3::PyResult<(i32, i64)>;
    /// An OSI symbol's (root, expiry ordinal, right, strike_e9, default underlying of the root), or None.
    fn parse(&self, symbol: &str) -> pyo3::PyResult<Option<(String, i32, String, i64, String)>>;
}

#[derive(Serialize, Deserialize)]
pub struct Underlying {
    window_ns: i64,
    refresh_ns: i64,
    equity: HashMap<String, VecDeque<(i64, i64)>>,
    chains: HashMap<String, Chain>,
    contracts: HashSet<String>,
    print_quotes: HashMap<String, (i64, i64, i64)>,
    root_underlying: HashMap<String, String>,
    day: i32,
    next_day_ns: i64,
    /// Contracts dropped as expired by the last date turn, for the caller to forget elsewhere (drained at once).
    #[serde(skip)]
    pub expired: Vec<String>,
}

impl Underlying {
    pub fn new(window_ns: i64, refresh_ns: i64) -> Self {
        Underlying {
            window_ns,
            refresh_ns,
            equity: HashMap::default(),
            chains: HashMap::default(),
            contracts: HashSet::default(),
            print_quotes: HashMap::default(),
            root_underlying: HashMap::default(),
            day: 1, // date.min
            next_day_ns: i64::MIN,
            expired: Vec::new(),
        }
    }

    pub fn on_equity_quote(&mut self, symbol: &str, ts: i64, bid: i64, ask: i64, keep_from: i64) {
        if !(0 < bid && bid <= ask) {
            return;
        }
        let entry = (ts, floor_div(bid as i128 + ask as i128, 2) as i64);
        let Some(history) = self.equity.get_mut(symbol) else {
            self.equity.insert(symbol.to_owned(), VecDeque::from([entry]));
            return;
        };
        if history.back().is_some_and(|last| last.0 > ts) {
            history.push_back(entry);
            history.make_contiguous().sort(); // Python sorts (ts, mid) tuples
        } else {
            history.push_back(entry);
        }
        while history.len() > MAX_QUOTE_HISTORY {
            history.pop_front();
        }
        while history.len() >= 2 && history[1].0 <= keep_from {
            history.pop_front();
        }
    }

    /// Contracts in the chain index.
    pub fn contract_count(&self) -> usize {
        self.contracts.len()
    }

    pub fn add_contract(&mut self, symbol: &str, underlying: &str, root: &str, expiry: i32, right: &str, strike: i64) {
        self.root_underlying.insert(root.to_owned(), underlying.to_owned());
        if !self.contracts.contains(symbol) {
            self.add(symbol, underlying, root, expiry, right, strike);
        }
    }

    /// `on_print_fields`: index the contract, keep the two-sided quote the print carries.
    #[allow(clippy::too_many_arguments)]
    pub fn on_print(
        &mut self,
        symbol: &str,
        underlying: &str,
        root: &str,
        expiry: i32,
        right: &str,
        strike: i64,
        ts: i64,
        nbbo: (Option<i64>, Option<i64>, Option<i64>),
    ) {
        if !self.contracts.contains(symbol) {
            self.add_contract(symbol, underlying, root, expiry, right, strike);
        }
        let (bid, ask, nbbo_ts) = nbbo;
        if let (Some(bid), Some(ask)) = (bid, ask) {
            if 0 < bid && bid <= ask {
                let ts = nbbo_ts.unwrap_or(ts);
                let newer = self.print_quotes.get(symbol).is_none_or(|held| ts >= held.0);
                if newer {
                    self.print_quotes.insert(symbol.to_owned(), (ts, bid, ask));
                }
            }
        }
    }

    /// `for_print`: stamped on the print, else `at` its time.
    pub fn for_print(
        &mut self,
        book: &mut Book,
        cal: &dyn Calendar,
        stamped: Option<i64>,
        underlying: &str,
        ts: i64,
    ) -> pyo3::PyResult<Option<Mark>> {
        if let Some(price) = stamped {
            if price > 0 {
                return Ok(Some(Mark { price, implied: false, quote_ts: ts, strike: None }));
            }
        }
        self.at(book, cal, underlying, ts)
    }

    pub fn at(&mut self, book: &mut Book, cal: &dyn Calendar, underlying: &str, ts: i64) -> pyo3::PyResult<Option<Mark>> {
        if ts >= self.next_day_ns {
            self.turn_day(book, cal, ts)?;
        }
        if let Some(history) = self.equity.get(underlying) {
            for &(quoted, mid) in history.iter().rev() {
                if quoted <= ts {
                    if ts - quoted <= self.window_ns {
                        return Ok(Some(Mark { price: mid, implied: false, quote_ts: quoted, strike: None }));
                    }
                    break;
                }
            }
        }
        self.implied(book, cal, underlying, ts)
    }

    fn implied(&mut self, book: &mut Book, cal: &dyn Calendar, underlying: &str, ts: i64) -> pyo3::PyResult<Option<Mark>> {
        if !book.new_symbols.is_empty() {
            self.learn(book, cal)?;
        }
        let window = self.window_ns;
        let day = self.day;
        let Some(chain) = self.chains.get_mut(underlying) else { return Ok(None) };
        let bucket = ts.div_euclid(self.refresh_ns);
        if chain.cache_bucket == bucket && ts >= chain.cache_ts {
            match chain.cache_mark {
                None => return Ok(None),
                Some(m) if ts - m.quote_ts <= window => return Ok(Some(m)),
                _ => {}
            }
        }
        let mut mark = None;
        for key in &chain.order {
            if key.0 >= day {
                mark = parity(&chain.series[key], ts, chain.reference, book, &self.print_quotes, window);
                if mark.is_some() {
                    break;
                }
            }
        }
        chain.cache_bucket = bucket;
        chain.cache_ts = ts;
        chain.cache_mark = mark;
        if let Some(m) = mark {
            chain.reference = Some(m.price);
        }
        Ok(mark)
    }

    fn learn(&mut self, book: &mut Book, cal: &dyn Calendar) -> pyo3::PyResult<()> {
        let new = std::mem::take(&mut book.new_symbols);
        for symbol in new {
            if self.contracts.contains(&symbol) {
                continue;
            }
            let Some((root, expiry, right, strike, default_underlying)) = cal.parse(&symbol)? else { continue };
            let underlying = self.root_underlying.get(&root).cloned().unwrap_or(default_underlying);
            self.add(&symbol, &underlying, &root, expiry, &right, strike);
        }
        Ok(())
    }

    fn add(&mut self, symbol: &str, underlying: &str, root: &str, expiry: i32, right: &str, strike: i64) {
        let chain = self.chains.entry(underlying.to_owned()).or_insert_with(Chain::new);
        let key = (expiry, root.to_owned());
        if !chain.series.contains_key(&key) {
            let pos = chain.order.partition_point(|k| k <= &key);
            chain.order.insert(pos, key.clone());
            chain.series.insert(key.clone(), Series::default());
        }
        let series = chain.series.get_mut(&key).expect("series just made");
        if !series.calls.contains_key(&strike) && !series.puts.contains_key(&strike) {
            let pos = series.strikes.partition_point(|s| *s <= strike);
            series.strikes.insert(pos, strike);
        }
        if right == "C" {
            series.calls.insert(strike, symbol.to_owned());
        } else {
            series.puts.insert(strike, symbol.to_owned());
        }
        self.contracts.insert(symbol.to_owned());
    }

    fn turn_day(&mut self, book: &mut Book, cal: &dyn Calendar, ts: i64) -> pyo3::PyResult<()> {
        let (day, next) = cal.day_of(ts)?;
        self.day = day;
        self.next_day_ns = next;
        for chain in self.chains.values_mut() {
            let mut expired = 0;
            while expired < chain.order.len() && chain.order[expired].0 < day {
                if let Some(series) = chain.series.remove(&chain.order[expired]) {
                    for symbol in series.calls.values().chain(series.puts.values()) {
                        self.contracts.remove(symbol);
                        self.print_quotes.remove(symbol);
                        book.forget(symbol);
                        self.expired.push(symbol.clone());
                    }
                }
                expired += 1;
            }
            if expired > 0 {
                chain.order.drain(..expired);
                chain.cache_bucket = -1;
            }
        }
        Ok(())
    }
}

/// Python's `//` for a positive divisor.
pub fn floor_div(a: i128, b: i128) -> i128 {
    debug_assert!(b > 0);
    a.div_euclid(b)
}

fn fresh(book: &Book, print_quotes: &HashMap<String, (i64, i64, i64)>, symbol: &str, ts: i64, window: i64) -> Option<(i64, i64, i64)> {
    let mut held = book.as_of(symbol, ts).map(|q| (q.ts, q.bid, q.ask));
    if let Some(&carried) = print_quotes.get(symbol) {
        if carried.0 <= ts && held.is_none_or(|h| carried.0 > h.0) {
            held = Some(carried);
        }
    }
    let h = held?;
    if !(0 < h.1 && h.1 <= h.2) || ts - h.0 > window {
        return None;
    }
    Some(h)
}

fn pair(series: &Series, strike: i64, ts: i64, book: &Book, pq: &HashMap<String, (i64, i64, i64)>, window: i64) -> Option<(i64, i64, i64)> {
    let call = series.calls.get(&strike)?;
    let put = series.puts.get(&strike)?;
    let c = fresh(book, pq, call, ts, window)?;
    let p = fresh(book, pq, put, ts, window)?;
    let spread2 = (c.1 + c.2) - (p.1 + p.2);
    let price = floor_div(spread2 as i128, 2) as i64 + strike;
    if price <= 0 {
        return None;
    }
    Some((spread2.abs(), price, c.0.min(p.0)))
}

fn parity(series: &Series, ts: i64, reference: Option<i64>, book: &Book, pq: &HashMap<String, (i64, i64, i64)>, window: i64) -> Option<Mark> {
    let strikes = &series.strikes;
    let Some(reference) = reference else {
        let mut best: Option<(i64, i64, i64, i64)> = None;
        for &strike in strikes {
            if let Some(p) = pair(series, strike, ts, book, pq, window) {
                if best.is_none_or(|b| p.0 < b.0) {
                    best = Some((p.0, strike, p.1, p.2));
                }
            }
        }
        return best.map(|b| Mark { price: b.2, implied: true, quote_ts: b.3, strike: Some(b.1) });
    };
    let mut lo = strikes.partition_point(|s| *s < reference) as isize - 1;
    let mut hi = lo + 1;
    let count = strikes.len() as isize;
    while lo >= 0 || hi < count {
        let strike;
        if hi >= count || (lo >= 0 && reference - strikes[lo as usize] <= strikes[hi as usize] - reference) {
            strike = strikes[lo as usize];
            lo -= 1;
        } else {
            strike = strikes[hi as usize];
            hi += 1;
        }
        if let Some(p) = pair(series, strike, ts, book, pq, window) {
            return Some(Mark { price: p.1, implied: true, quote_ts: p.2, strike: Some(strike) });
        }
    }
    None
}
