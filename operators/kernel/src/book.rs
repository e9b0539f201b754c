//! The option quote book (`operators/nbbo_join.py` `QuoteBook`) and placement (`place_bp`), exactly.

use serde::{Deserialize, Serialize};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

/// Quotes kept per contract at most (`nbbo_join.MAX_QUOTE_HISTORY`).
pub const MAX_QUOTE_HISTORY: usize = 10_000;
const BAND_SCALE: i64 = 10_000;

/// A top of book at one instant: (ts_event, bid_e9, ask_e9, bid_size, ask_size).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub ts: i64,
    pub bid: i64,
    pub ask: i64,
    pub bid_size: i64,
    pub ask_size: i64,
}

// Placements, numbered in `events.models.PLACEMENTS` order (the number is the sort key of packet tallies).
pub const AA: u8 = 0;
pub const A: u8 = 1;
pub const MID: u8 = 2;
pub const B: u8 = 3;
pub const BB: u8 = 4;
pub const MISSING: u8 = 5;
pub const STALE: u8 = 6;
pub const CROSSED: u8 = 7;

pub const SIDE_UNKNOWN: u8 = 0;
pub const SIDE_BUY: u8 = 1;
pub const SIDE_SELL: u8 = 2;

/// Placement -> aggressor side (`nbbo_join.AGGRESSOR_SIDES`).
pub fn side_of(placement: u8) -> u8 {
    match placement {
        AA | A => SIDE_BUY,
        B | BB => SIDE_SELL,
        _ => SIDE_UNKNOWN,
    }
}

type History = VecDeque<Quote>;

#[derive(Serialize, Deserialize, Default)]
pub struct Book {
    history: HashMap<String, History>,
    /// Per contract: (venue, history) in first-seen order (the Python dict's order decides ties).
    venues: HashMap<String, Vec<(String, History)>>,
    venue_max_age_ns: i64,
    /// Symbols seen for the first time, not yet learned by the underlying price book.
    pub new_symbols: Vec<String>,
}

fn append(history: &mut History, quote: Quote, keep_from: i64) {
    if history.back().is_some_and(|last| last.ts > quote.ts) {
        // Out of order: insert in time order, after equal times (the Python stable sort).
        let pos = history.partition_point(|q| q.ts <= quote.ts);
        history.insert(pos, quote);
    } else {
        history.push_back(quote);
    }
    while history.len() > MAX_QUOTE_HISTORY {
        history.pop_front();
    }
    while history.len() >= 2 && history[1].ts <= keep_from {
        history.pop_front();
    }
}

fn latest(history: &History, ts: i64) -> Option<Quote> {
    history.iter().rev().find(|q| q.ts <= ts).copied()
}

impl Book {
    pub fn new(venue_max_age_ns: i64) -> Self {
        Book { venue_max_age_ns, ..Default::default() }
    }

    /// A consolidated quote (`QuoteBook.insert`).
    pub fn insert(&mut self, symbol: &str, quote: Quote, keep_from: i64) {
        match self.history.get_mut(symbol) {
            Some(history) => append(history, quote, keep_from),
            None => {
                self.history.insert(symbol.to_owned(), VecDeque::from([quote]));
                if !self.venues.contains_key(symbol) {
                    self.new_symbols.push(symbol.to_owned());
                }
            }
        }
    }

    /// One venue's top of book (`QuoteBook.update_venue`).
    pub fn update_venue(&mut self, symbol: &str, venue: &str, quote: Quote, keep_from: i64) {
        let venues = match self.venues.get_mut(symbol) {
            Some(v) => v,
            None => {
                if !self.history.contains_key(symbol) {
                    self.new_symbols.push(symbol.to_owned());
                }
                self.venues.entry(symbol.to_owned()).or_default()
            }
        };
        match venues.iter_mut().find(|(name, _)| name == venue) {
            Some((_, history)) => append(history, quote, keep_from),
            None => venues.push((venue.to_owned(), VecDeque::from([quote]))),
        }
    }

    fn best_of_venues(&self, venues: &[(String, History)], ts: i64) -> Option<Quote> {
        let oldest = ts - self.venue_max_age_ns;
        let mut fresh: Vec<Quote> = Vec::with_capacity(venues.len());
        let mut newest: Option<Quote> = None;
        for (_, history) in venues {
            let Some(quote) = latest(history, ts) else { continue };
            if newest.is_none_or(|n| quote.ts > n.ts) {
                newest = Some(quote);
            }
            if quote.ts >= oldest {
                fresh.push(quote);
            }
        }
        if fresh.is_empty() {
            return newest;
        }
        let best_bid = fresh.iter().filter(|q| q.bid > 0).map(|q| q.bid).max().unwrap_or(0);
        let best_ask = fresh.iter().filter(|q| q.ask > 0).map(|q| q.ask).min().unwrap_or(0);
        Some(Quote {
            ts: fresh.iter().map(|q| q.ts).max().unwrap_or(0),
            bid: best_bid,
            ask: best_ask,
            bid_size: fresh.iter().filter(|q| q.bid > 0 && q.bid == best_bid).map(|q| q.bid_size).sum(),
            ask_size: fresh.iter().filter(|q| q.ask > 0 && q.ask == best_ask).map(|q| q.ask_size).sum(),
        })
    }

    /// The quote in force at `ts` (`QuoteBook.as_of`).
    pub fn as_of(&self, symbol: &str, ts: i64) -> Option<Quote> {
        if let Some(history) = self.history.get(symbol) {
            if let Some(q) = latest(history, ts) {
                return Some(q);
            }
        }
        match self.venues.get(symbol) {
            Some(venues) if !venues.is_empty() => self.best_of_venues(venues, ts),
            _ => None,
        }
    }

    /// Drop a contract's quotes (`QuoteBook.forget`: an expired contract, when the date turns).
    pub fn forget(&mut self, symbol: &str) {
        self.history.remove(symbol);
        self.venues.remove(symbol);
    }

    /// Contracts with quotes (consolidated or venue).
    pub fn len(&self) -> usize {
        self.history.len() + self.venues.keys().filter(|s| !self.history.contains_key(*s)).count()
    }
}

/// `nbbo_join.place_bp`: (placement, whether the tick test decided it).
pub fn place(price: i64, quote: Option<Quote>, ts: i64, max_age_ns: i64, band: i64, prev: Option<i64>) -> (u8, bool) {
    let Some(q) = quote else { return (MISSING, false) };
    if ts - q.ts > max_age_ns {
        return (STALE, false);
    }
    if q.ask <= 0 || q.bid > q.ask {
        return (CROSSED, false);
    }
    if q.bid == q.ask {
        return match prev {
            None => (MID, true),
            Some(p) if p == price => (MID, true),
            Some(p) => (if price > p { A } else { B }, true),
        };
    }
    if price > q.ask {
        return (AA, false);
    }
    if price < q.bid {
        return (BB, false);
    }
    let width = ((q.ask - q.bid) as i128 * band as i128).div_euclid(BAND_SCALE as i128) as i64;
    if price >= q.ask - width {
        return (A, false);
    }
    if price <= q.bid + width {
        return (B, false);
    }
    (MID, false)
}
