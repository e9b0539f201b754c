//! Splitting a batch of raw events into one run per partition key (`flows.engine_steps.group_by_key`), in one
//! call per batch: the flows' keying step costs a few C-API calls per event instead of a Python loop.

use crate::fields_of;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// Split `events` into `[(key, (run, newest_ns, jump_ns)), ...]`: one run per key, keys in order of first
/// appearance, each run in arrival order. `key_fields` maps an event type to the field holding its partition key;
/// events of another type are left out (the step's selection).
///
/// The two numbers summarise the run's events of a type in `timed_types` for the quarantine, read in the same pass
/// (`operators.quarantine.stream_summary`): `newest_ns` is their largest `ts_event`, `jump_ns` the largest
/// `ts_event` of those more than `ahead_ns` past every earlier one of the run (the first always is); both are
/// `i64::MIN` when the run has none.
#[pyfunction]
pub fn runs_by_key<'py>(
    events: &Bound<'py, PyAny>,
    key_fields: &Bound<'py, PyDict>,
    timed_types: &Bound<'py, PyAny>,
    ahead_ns: i64,
) -> PyResult<Bound<'py, PyList>> {
    let py = events.py();
    let index = PyDict::new(py);
    let mut runs: Vec<(Bound<'py, PyAny>, Bound<'py, PyList>, i64, i64)> = Vec::new();
    for event in events.try_iter()? {
        let event = event?;
        let fields = fields_of(&event)?;
        let Some(event_type) = crate::fields::get(&fields, intern!(py, "event_type"))? else {
            continue;
        };
        let Some(key_field) = key_fields.get_item(&event_type)? else {
            continue;
        };
        let Some(key) = crate::fields::get(&fields, &key_field)? else {
            continue;
        };
        let at = match index.get_item(&key)? {
            Some(at) => at.extract::<usize>()?,
            None => {
                index.set_item(&key, runs.len())?;
                runs.push((key, PyList::empty(py), i64::MIN, i64::MIN));
                runs.len() - 1
            }
        };
        let run = &mut runs[at];
        if timed_types.contains(&event_type)? {
            let ts: i64 = crate::item(&fields, intern!(py, "ts_event"))?.extract()?;
            if run.2 == i64::MIN || ts > run.2.saturating_add(ahead_ns) {
                run.3 = run.3.max(ts);
            }
            run.2 = run.2.max(ts);
        }
        run.1.append(event)?;
    }
    let out = PyList::empty(py);
    for (key, run, newest, jump) in runs {
        let summary = PyTuple::new(py, [run.into_any(), newest.into_pyobject(py)?.into_any(), jump.into_pyobject(py)?.into_any()])?;
        out.append(PyTuple::new(py, [key, summary.into_any()])?)?;
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
        if let Some(event_type) = crate::fields::get(&fields, intern!(py, "event_type"))? {
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
