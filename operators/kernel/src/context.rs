//! Per-packet context state (`operators/packet_context.py` `PacketContexts`, with `operators/baselines.py`
//! `RollingWindow`), exactly: every closed packet updates its contract's rolling premium and size windows, its
//! underlying's premium window and the contract's day and 5-minute volumes here, whatever its size. What a
//! classifier reads is handed to Python only for a packet that can matter (premium at or above the lowest floor
//! of any packet classifier) or that may be a structure leg (size at or above the leg floor): the window moments
//! as integers (Python turns them into z-scores with `baselines.z_score`, so the floats are its own), the median
//! packet size, and the volumes.

use serde::{Deserialize, Serialize};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

/// A count window of integers with exact running moments (`RollingWindow`).
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct Window {
    values: VecDeque<i64>,
    sum: i128,
    sum_sq: i128,
}

/// A window's (count, sum, sum of squares) before a value is added.
pub type Moments = (usize, i128, i128);

impl Window {
    fn add(&mut self, value: i64, size: usize) {
        if self.values.len() == size {
            if let Some(old) = self.values.pop_front() {
                self.sum -= old as i128;
                self.sum_sq -= old as i128 * old as i128;
            }
        }
        self.values.push_back(value);
        self.sum += value as i128;
        self.sum_sq += value as i128 * value as i128;
    }

    fn moments(&self) -> Moments {
        (self.values.len(), self.sum, self.sum_sq)
    }

    /// Whether `RollingWindow.z` gives a score: enough samples and a spread.
    fn scores(&self, min_samples: usize) -> bool {
        let n = self.values.len();
        n >= min_samples && n as i128 * self.sum_sq - self.sum * self.sum > 0
    }

    /// `RollingWindow.median` (`statistics.median`: the middle value, or the mean of the middle two).
    fn median(&self, min_samples: usize) -> Option<f64> {
        let n = self.values.len();
        if n < min_samples || n == 0 {
            return None;
        }
        let mut sorted: Vec<i64> = self.values.iter().copied().collect();
        sorted.sort_unstable();
        if n % 2 == 1 {
            Some(sorted[n / 2] as f64)
        } else {
            // Sizes are far below 2^52: the sum and its half are exact, as Python's int / 2 is.
            Some((sorted[n / 2 - 1] as i128 + sorted[n / 2] as i128) as f64 / 2.0)
        }
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Contract {
    premium: Window,
    size: Window,
    day: i32,
    day_volume: i64,
    bucket_day: i32,
    bucket: i32,
    bucket_volume: i64,
}

const NO_DAY: i32 = i32::MIN;

/// What Python reads of one packet's context (`PacketContexts.on_packet`'s inputs to `PacketContext`).
pub struct Seen {
    pub usual_size: Option<f64>,
    /// For a packet that can matter: the moments its premium z is computed against (the contract's window when it
    /// scores, else the underlying's) and its size z's (the contract's size window); None otherwise.
    pub scores: Option<(Moments, Moments)>,
    pub day_volume: i64,
    pub bucket_volume: Option<i64>,
    pub bucket: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Contexts {
    contracts: HashMap<String, Contract>,
    underlyings: HashMap<String, Window>,
    window: usize,
    min_samples: usize,
    leg_floor: i64,
    hit_floor_cents: i64,
}

impl Contexts {
    pub fn new(window: usize, min_samples: usize, leg_floor: i64, hit_floor_cents: i64) -> Self {
        Contexts {
            contracts: HashMap::default(),
            underlyings: HashMap::default(),
            window,
            min_samples,
            leg_floor,
            hit_floor_cents,
        }
    }

    /// Count a closed packet (`PacketContexts.on_packet`); `day` and `bucket` locate its `ts_event` (New York
    /// date ordinal, session bucket or -1). Returns what Python needs, or None when the packet can neither matter
    /// nor be a structure leg (then Python needs nothing but the packet).
    pub fn on_packet(
        &mut self,
        symbol: &str,
        underlying: &str,
        premium: i64,
        size: i64,
        day: i32,
        bucket: i32,
    ) -> Option<Seen> {
        let (window, min_samples) = (self.window, self.min_samples);
        if !self.contracts.contains_key(symbol) {
            let fresh = Contract {
                premium: Window::default(),
                size: Window::default(),
                day: NO_DAY,
                day_volume: 0,
                bucket_day: NO_DAY,
                bucket: -1,
                bucket_volume: 0,
            };
            self.contracts.insert(symbol.to_owned(), fresh);
        }
        if !self.underlyings.contains_key(underlying) {
            self.underlyings.insert(underlying.to_owned(), Window::default());
        }
        let contract = self.contracts.get_mut(symbol).expect("inserted above");
        let under = self.underlyings.get_mut(underlying).expect("inserted above");
        let usual_size = if size >= self.leg_floor { contract.size.median(min_samples) } else { None };
        let matters = premium >= self.hit_floor_cents;
        let scores = if matters {
            let premium_moments =
                if contract.premium.scores(min_samples) { contract.premium.moments() } else { under.moments() };
            Some((premium_moments, contract.size.moments()))
        } else {
            None
        };
        contract.premium.add(premium, window);
        under.add(premium, window);
        contract.size.add(size, window);
        if contract.day != day {
            contract.day = day;
            contract.day_volume = 0;
        }
        contract.day_volume += size;
        let mut bucket_volume = None;
        if bucket >= 0 {
            if contract.bucket_day != day || contract.bucket != bucket {
                contract.bucket_day = day;
                contract.bucket = bucket;
                contract.bucket_volume = 0;
            }
            contract.bucket_volume += size;
            bucket_volume = Some(contract.bucket_volume);
        }
        if !matters && usual_size.is_none() {
            return None;
        }
        Some(Seen {
            usual_size,
            scores,
            day_volume: contract.day_volume,
            bucket_volume,
            bucket: if bucket >= 0 { Some(bucket) } else { None },
        })
    }

    /// (rolling window, minimum samples, leg floor, hit floor): the constructor's arguments.
    pub fn params(&self) -> (usize, usize, i64, i64) {
        (self.window, self.min_samples, self.leg_floor, self.hit_floor_cents)
    }

    /// Drop an expired contract's windows and volumes (`PacketContexts.forget`).
    pub fn forget(&mut self, symbol: &str) {
        self.contracts.remove(symbol);
    }

    pub fn contract_count(&self) -> usize {
        self.contracts.len()
    }

    pub fn underlying_count(&self) -> usize {
        self.underlyings.len()
    }

    /// A window's values, oldest first: a contract's `premium` or `size`, an underlying's `premium`
    /// (`PacketContexts.stats` reads them).
    pub fn values(&self, key: &str, metric: &str) -> Option<Vec<i64>> {
        if let Some(contract) = self.contracts.get(key) {
            return match metric {
                "premium" => Some(contract.premium.values.iter().copied().collect()),
                "size" => Some(contract.size.values.iter().copied().collect()),
                _ => None,
            };
        }
        match (self.underlyings.get(key), metric) {
            (Some(window), "premium") => Some(window.values.iter().copied().collect()),
            _ => None,
        }
    }
}
