//! Reading an event's fields out of its instance dict by position, without hashing.
//!
//! An event's `__dict__` holds its fields in model order, under the interned field names, so a field of a given
//! model sits at the same entry of every instance's dict. `value` remembers, per (field name, dict size), the entry
//! where it last found the field, reads that entry (`PyDict_Next` from it) and checks that its key is the very
//! name object asked for. Anything else (another layout, a dict with other key objects) falls back to a scan that
//! learns the entry, then to the hash lookup, so the result is always the dict's own value for the key: the hint
//! changes the cost of a read, never what it reads.

use pyo3::exceptions::PyKeyError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::atomic::{AtomicIsize, Ordering};

const SLOTS: usize = 1024;
/// No entry learned for this slot: read through the hash lookup.
const UNKNOWN: isize = -1;

/// The entry last seen to hold a (field name, dict size); slots may collide, which only costs a scan.
static HINTS: [AtomicIsize; SLOTS] = [const { AtomicIsize::new(0) }; SLOTS];

fn slot(key: *mut ffi::PyObject, size: ffi::Py_ssize_t) -> &'static AtomicIsize {
    let mixed = ((key as usize) >> 4) ^ (size as usize).wrapping_mul(0x9E37_79B9);
    &HINTS[mixed & (SLOTS - 1)]
}

/// The value of `key` in `d`, borrowed from `d`; null when absent, with an error set if the lookup raised.
///
/// SAFETY (callers): `d` and `key` are live, and the result is used only while `d` is, unchanged.
unsafe fn borrowed(d: *mut ffi::PyObject, key: *mut ffi::PyObject) -> *mut ffi::PyObject {
    let hint = slot(key, ffi::PyDict_Size(d));
    let learned = hint.load(Ordering::Relaxed);
    let (mut k, mut v) = (std::ptr::null_mut(), std::ptr::null_mut());
    if learned != UNKNOWN {
        let mut pos = learned;
        if ffi::PyDict_Next(d, &mut pos, &mut k, &mut v) != 0 && k == key {
            return v;
        }
        // Another layout: find the entry (and remember it), comparing key objects only.
        let mut pos = 0;
        while ffi::PyDict_Next(d, &mut pos, &mut k, &mut v) != 0 {
            if k == key {
                hint.store(pos - 1, Ordering::Relaxed); // `pos` is past the entry read
                return v;
            }
        }
    }
    // The key is absent, or under an equal string that is not the interned name.
    v = ffi::PyDict_GetItemWithError(d, key);
    if !v.is_null() {
        hint.store(UNKNOWN, Ordering::Relaxed);
    }
    v
}

/// `d[key]` (a `KeyError` when absent), read by position when it can be (module docs).
pub(crate) fn value<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    let py = d.py();
    // SAFETY: both are live; the borrowed value becomes an owned reference before `d` can change.
    unsafe {
        let v = borrowed(d.as_ptr(), key.as_ptr());
        if v.is_null() {
            return Err(PyErr::take(py).unwrap_or_else(|| PyKeyError::new_err(key.to_string())));
        }
        Ok(Bound::from_borrowed_ptr(py, v))
    }
}

/// `d.get(key)`, read by position when it can be.
pub(crate) fn get<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = d.py();
    // SAFETY: as in `value`.
    unsafe {
        let v = borrowed(d.as_ptr(), key.as_ptr());
        if v.is_null() {
            return match PyErr::take(py) {
                Some(err) => Err(err),
                None => Ok(None),
            };
        }
        Ok(Some(Bound::from_borrowed_ptr(py, v)))
    }
}
