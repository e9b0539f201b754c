//! Splitting a batch of raw events into one run per partition key (`flows.engine_steps.group_by_key`), in one
//! call per batch: the flows' keying step costs a few C-API calls per event instead of a Python loop.

use crate::fields_of;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// Split `events` into `[(key, [event, ...]), ...]`: one run per key, keys in order of first appearance, each run
/// in arrival order. `key_fields` maps an event type to the field holding its partition key; events of another
/// type are left out (the step's selection).
#[pyfunction]
pub fn runs_by_key<'py>(events: &Bound<'py, PyAny>, key_fields: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyList>> {
    let py = events.py();
    let runs = PyDict::new(py);
    for event in events.try_iter()? {
        let event = event?;
        let fields = fields_of(&event)?;
        let Some(event_type) = fields.get_item(intern!(py, "event_type"))? else {
            continue;
        };
        let Some(key_field) = key_fields.get_item(event_type)? else {
            continue;
        };
        let Some(key) = fields.get_item(key_field)? else {
            continue;
        };
        match runs.get_item(&key)? {
            Some(run) => run.downcast::<PyList>()?.append(event)?,
            None => runs.set_item(key, PyList::new(py, [event])?)?,
        }
    }
    let out = PyList::empty(py);
    for (key, run) in runs.iter() {
        out.append(PyTuple::new(py, [key, run])?)?;
    }
    Ok(out)
}

/// `operators.quarantine.scan_stream`: walk one key's `events` from the stream time `clock`, moving it to each
/// newer `ts_event` of a type in `timed_types`, and stop at the first such event more than `ahead_ns` past it.
/// Return (its index, or the run's length when there is none; the stream time before it).
#[pyfunction]
pub fn scan_stream<'py>(
    events: &Bound<'py, PyAny>,
    clock: i64,
    ahead_ns: i64,
    timed_types: &Bound<'py, PyAny>,
) -> PyResult<(usize, i64)> {
    let py = events.py();
    let mut clock = clock;
    let mut at = 0usize;
    for event in events.try_iter()? {
        let event = event?;
        let fields = fields_of(&event)?;
        if let Some(event_type) = fields.get_item(intern!(py, "event_type"))? {
            if timed_types.contains(event_type)? {
                let ts: i64 = crate::item(&fields, intern!(py, "ts_event"))?.extract()?;
                if ts > clock {
                    if ts > clock.saturating_add(ahead_ns) {
                        return Ok((at, clock));
                    }
                    clock = ts;
                }
            }
        }
        at += 1;
    }
    Ok((at, clock))
}
