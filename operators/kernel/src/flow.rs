//! Per-underlying flow context over sliding event-time windows (`operators/flow_context.py`
//! `FlowContextTracker`), exactly: every packet is reduced once to a vector of integer sums, kept once per
//! underlying in event-time order; a window is an index into that list (its expired prefix) and its sums are
//! the running total minus the expired prefix's sums. What a window reports is handed to Python as its sums
//! (`Report`), and Python builds the event (`flow_context.build_context`), so ids, ratios and texts are the
//! reference's own. Entries past the exact horizon are merged into steps (`coarsen`), as the tracker merges them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The sums every window keeps, in `flow_context.FIELDS` order.
pub const FIELDS: usize = 16;
pub type Sums = [i128; FIELDS];
pub type Contribution = [i64; FIELDS];

#[derive(Serialize, Deserialize, Clone)]
struct Win {
    length_ns: i64,
    head: usize,
    counted: usize,
    expired: Sums,
    dirty: bool,
    last_emit_ns: i64,
    late_packets: u64,
}

impl Win {
    fn catch_up(&mut self, times: &[i64], end_ns: i64) {
        let bound = end_ns.saturating_sub(self.length_ns);
        let head = self.head + times[self.head..].partition_point(|&t| t <= bound);
        if head != self.head {
            self.head = head;
            self.dirty = true;
        }
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Under {
    windows: Vec<Win>,
    longest: usize,
    shortest_ns: i64,
    end_ns: i64,
    due_ns: i64,
    last_packet_id: String,
    times: Vec<i64>,
    values: Vec<Contribution>,
    total: Sums,
    /// Entries at the front left by the last `coarsen`.
    coarse: usize,
}

fn plus(sums: &mut Sums, rows: &[Contribution]) {
    for row in rows {
        for (s, v) in sums.iter_mut().zip(row.iter()) {
            *s += *v as i128;
        }
    }
}

impl Under {
    fn sums(&mut self, w: usize) -> Sums {
        let window = &mut self.windows[w];
        if window.counted != window.head {
            plus(&mut window.expired, &self.values[window.counted..window.head]);
            window.counted = window.head;
        }
        let mut out = self.total;
        for (o, e) in out.iter_mut().zip(window.expired.iter()) {
            *o -= *e;
        }
        out
    }

    fn compact(&mut self) {
        let end = self.end_ns;
        for w in 0..self.windows.len() {
            self.windows[w].catch_up(&self.times, end);
            self.sums(w);
        }
        let dead = self.windows.iter().map(|w| w.head).min().unwrap_or(0);
        if dead == 0 {
            return;
        }
        let gone = self.windows.iter().find(|w| w.head == dead).map(|w| w.expired).expect("a window has it");
        for (t, g) in self.total.iter_mut().zip(gone.iter()) {
            *t -= *g;
        }
        for window in &mut self.windows {
            for (e, g) in window.expired.iter_mut().zip(gone.iter()) {
                *e -= *g;
            }
            window.head -= dead;
            window.counted -= dead;
        }
        self.times.drain(..dead);
        self.values.drain(..dead);
        self.coarse = self.coarse.saturating_sub(dead);
    }

    /// `_Underlying.coarsen`: merge the first `limit` entries into one per `step_ns` step of their times, never
    /// across a window's `head` or `counted`, nor past the i64 range of an entry.
    fn coarsen(&mut self, limit: usize, step_ns: i64) {
        let cuts: Vec<usize> = self.windows.iter().flat_map(|w| [w.head, w.counted]).collect();
        let mut times: Vec<i64> = Vec::new();
        let mut values: Vec<Contribution> = Vec::new();
        let mut moved: Vec<(usize, usize)> = Vec::new(); // (old index of a cut, its new index)
        let mut i = 0;
        while i < limit {
            if cuts.contains(&i) {
                moved.push((i, times.len()));
            }
            let step = self.times[i].div_euclid(step_ns);
            let mut row = self.values[i];
            let mut j = i + 1;
            'run: while j < limit && !cuts.contains(&j) && self.times[j].div_euclid(step_ns) == step {
                let mut merged = row;
                for (m, v) in merged.iter_mut().zip(self.values[j].iter()) {
                    match m.checked_add(*v) {
                        Some(sum) => *m = sum,
                        None => break 'run,
                    }
                }
                row = merged;
                j += 1;
            }
            times.push(self.times[j - 1]);
            values.push(row);
            i = j;
        }
        let shift = limit - times.len();
        let map = |index: usize| -> usize {
            if index < limit {
                moved.iter().find(|(old, _)| *old == index).map(|(_, new)| *new).expect("a cut starts a run")
            } else {
                index - shift
            }
        };
        for w in 0..self.windows.len() {
            let (head, counted) = (map(self.windows[w].head), map(self.windows[w].counted));
            self.windows[w].head = head;
            self.windows[w].counted = counted;
        }
        self.coarse = times.len();
        self.times.splice(..limit, times);
        self.values.splice(..limit, values);
    }
}

/// One window's report: (underlying, window index, end, the last packet's id, sums).
pub type Report = (String, usize, i64, String, Sums);

#[derive(Serialize, Deserialize, Clone)]
pub struct FlowContexts {
    state: BTreeMap<String, Under>,
    lengths_ns: Vec<i64>,
    emit_ns: i64,
    compact_min: usize,
    /// The exact horizon and the step of older entries (`flow_context_exact_ns`, `flow_context_step_ns`).
    exact_ns: i64,
    step_ns: i64,
    /// The institutional size (`flow_context_large_premium_cents`) and the poor-quotes coverage below which a
    /// packet's side says nothing about direction (`classifiers.common.POOR_QUOTES_COVERAGE`).
    pub large_cents: i64,
    pub poor_coverage: f64,
}

impl FlowContexts {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        lengths_ns: Vec<i64>,
        emit_ns: i64,
        compact_min: usize,
        large_cents: i64,
        poor_coverage: f64,
        exact_ns: i64,
        step_ns: i64,
    ) -> Self {
        FlowContexts {
            state: BTreeMap::new(),
            lengths_ns,
            emit_ns,
            compact_min,
            exact_ns,
            step_ns,
            large_cents,
            poor_coverage,
        }
    }

    pub fn is_set(&self) -> bool {
        !self.lengths_ns.is_empty()
    }

    /// `FlowContextTracker.on_packet`: add a closed packet's contribution; return the reports due now.
    pub fn on_packet(&mut self, underlying: &str, packet_id: &str, ts: i64, values: Contribution) -> Vec<Report> {
        if !self.state.contains_key(underlying) {
            let windows: Vec<Win> = self
                .lengths_ns
                .iter()
                .map(|&length_ns| Win {
                    length_ns,
                    head: 0,
                    counted: 0,
                    expired: [0; FIELDS],
                    dirty: false,
                    last_emit_ns: -1,
                    late_packets: 0,
                })
                .collect();
            // `max(windows, key=length)`: the first of the longest.
            let mut longest = 0;
            for (i, w) in windows.iter().enumerate() {
                if w.length_ns > windows[longest].length_ns {
                    longest = i;
                }
            }
            let shortest_ns = windows.iter().map(|w| w.length_ns).min().unwrap_or(0);
            let fresh = Under {
                windows,
                longest,
                shortest_ns,
                end_ns: -1,
                due_ns: -1,
                last_packet_id: String::new(),
                times: Vec::new(),
                values: Vec::new(),
                total: [0; FIELDS],
                coarse: 0,
            };
            self.state.insert(underlying.to_owned(), fresh);
        }
        let compact_min = self.compact_min;
        let state = self.state.get_mut(underlying).expect("inserted above");
        if ts > state.end_ns {
            state.end_ns = ts;
        }
        let end = state.end_ns;
        state.last_packet_id.clear();
        state.last_packet_id.push_str(packet_id);
        let len = state.times.len();
        let at = if len == 0 || state.times[len - 1] <= ts { len } else { state.times.partition_point(|&t| t <= ts) };
        if ts > end.saturating_sub(state.shortest_ns) {
            for window in &mut state.windows {
                window.dirty = true;
            }
        } else {
            // Already out of some window (`_add_late`).
            let times = &state.times;
            for window in &mut state.windows {
                if ts <= end.saturating_sub(window.length_ns) {
                    window.late_packets += 1;
                    window.catch_up(times, end);
                    window.head += 1;
                    if at < window.counted {
                        for (e, v) in window.expired.iter_mut().zip(values.iter()) {
                            *e += *v as i128;
                        }
                        window.counted += 1;
                    }
                } else {
                    window.dirty = true;
                }
            }
        }
        state.times.insert(at, ts);
        state.values.insert(at, values);
        if at < state.coarse {
            state.coarse += 1;
        }
        for (t, v) in state.total.iter_mut().zip(values.iter()) {
            *t += *v as i128;
        }
        if state.times.len() > compact_min && state.windows[state.longest].head > state.times.len() / 2 {
            state.compact();
        }
        let horizon = end.saturating_sub(self.exact_ns);
        if state.times.first().is_some_and(|&first| first <= horizon) {
            let old = state.times.partition_point(|&t| t <= horizon);
            if old - state.coarse.min(old) > compact_min {
                state.coarsen(old, self.step_ns);
            }
        }
        let emit_ns = self.emit_ns;
        let mut out = Vec::new();
        due(underlying, state, emit_ns, &mut out);
        out
    }

    /// `FlowContextTracker.advance`.
    pub fn advance(&mut self, watermark_ns: i64) -> Vec<Report> {
        let emit_ns = self.emit_ns;
        let mut out = Vec::new();
        for (underlying, state) in self.state.iter_mut() {
            if watermark_ns > state.end_ns {
                state.end_ns = watermark_ns;
            }
            due(underlying, state, emit_ns, &mut out);
        }
        out
    }

    /// `FlowContextTracker.flush`.
    pub fn flush(&mut self) -> Vec<Report> {
        let emit_ns = self.emit_ns;
        let mut out = Vec::new();
        for (underlying, state) in self.state.iter_mut() {
            for w in 0..state.windows.len() {
                let end = state.end_ns;
                state.windows[w].catch_up(&state.times, end);
                if state.windows[w].dirty {
                    out.push(emit(underlying, state, w, emit_ns));
                }
            }
        }
        out
    }

    /// `FlowContextTracker.next_change_ns`.
    pub fn next_change_ns(&self) -> Option<i64> {
        let mut due: Option<i64> = None;
        for state in self.state.values() {
            for window in &state.windows {
                let mut at = if window.dirty {
                    state.end_ns
                } else if window.head < state.times.len() {
                    state.times[window.head].saturating_add(window.length_ns)
                } else {
                    continue;
                };
                if window.last_emit_ns >= 0 {
                    at = at.max(window.last_emit_ns.saturating_add(self.emit_ns));
                }
                if due.is_none_or(|d| at < d) {
                    due = Some(at);
                }
            }
        }
        due
    }

    /// `FlowContextTracker.current`: every window of `underlying` as of its latest event time (no bookkeeping).
    pub fn current(&mut self, underlying: &str) -> Vec<Report> {
        let Some(state) = self.state.get_mut(underlying) else { return Vec::new() };
        let end = state.end_ns;
        let mut out = Vec::new();
        for w in 0..state.windows.len() {
            state.windows[w].catch_up(&state.times, end);
        }
        for w in 0..state.windows.len() {
            let sums = state.sums(w);
            out.push((underlying.to_owned(), w, end, state.last_packet_id.clone(), sums));
        }
        out
    }

    pub fn entry_count(&self) -> usize {
        self.state.values().map(|s| s.times.len()).sum()
    }

    /// Per window (in order), the packets that arrived already outside it; empty for an unknown underlying.
    pub fn late_packets(&self, underlying: &str) -> Vec<u64> {
        self.state.get(underlying).map(|s| s.windows.iter().map(|w| w.late_packets).collect()).unwrap_or_default()
    }
}

fn due(underlying: &str, state: &mut Under, emit_ns: i64, out: &mut Vec<Report>) {
    let end = state.end_ns;
    if end < state.due_ns {
        return; // every window's throttle holds it back
    }
    for w in 0..state.windows.len() {
        let last = state.windows[w].last_emit_ns;
        if last < 0 || end - last >= emit_ns {
            state.windows[w].catch_up(&state.times, end);
            if state.windows[w].dirty {
                out.push(emit(underlying, state, w, emit_ns));
            }
        }
    }
}

fn emit(underlying: &str, state: &mut Under, w: usize, emit_ns: i64) -> Report {
    let end = state.end_ns;
    state.windows[w].dirty = false;
    state.windows[w].last_emit_ns = end;
    let first = state.windows.iter().map(|w| w.last_emit_ns).min().unwrap_or(-1);
    state.due_ns = if first < 0 { -1 } else { first + emit_ns };
    let sums = state.sums(w);
    (underlying.to_owned(), w, end, state.last_packet_id.clone(), sums)
}
