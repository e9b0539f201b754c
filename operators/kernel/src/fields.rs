//! Reading an event's fields out of its instance dict by position, without hashing, and filling a freshly copied
//! field dict the same way.
//!
//! An event's `__dict__` holds its fields in model order, under the interned field names, so a field of a given
//! model sits at the same entry of every instance's dict. `value` remembers, per (field name, dict size), the entry
//! where it last found the field, reads that entry and checks that its key is the very name object asked for.
//! Anything else (another layout, a dict with other key objects) falls back to a scan that learns the entry, then
//! to the hash lookup, so the result is always the dict's own value for the key: the hint changes the cost of a
//! read, never what it reads.
//!
//! The entry is read straight from the dict's entry table when the interpreter's dict layout is the one `layout`
//! states (CPython 3.11 to 3.13: a combined table of unicode keys). `probe` checks that at import, against
//! `PyDict_Next` on dicts it builds; on any other interpreter, or after `set_direct(false)`, every read goes through
//! `PyDict_Next` from the learned entry instead, with the same results.

use pyo3::exceptions::PyKeyError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use pyo3::types::{PyDict, PyString};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

const SLOTS: usize = 1024;
/// No entry learned for this slot: read through the hash lookup.
const UNKNOWN: isize = -1;

/// The entry last seen to hold a (field name, dict size); slots may collide, which only costs a scan.
static HINTS: [AtomicIsize; SLOTS] = [const { AtomicIsize::new(0) }; SLOTS];
/// Whether entries are read from the entry table (`layout`), as `probe` found at import.
static DIRECT: AtomicBool = AtomicBool::new(false);
static PROBED: AtomicBool = AtomicBool::new(false);

fn slot(key: *mut ffi::PyObject, size: ffi::Py_ssize_t) -> &'static AtomicIsize {
    let mixed = ((key as usize) >> 4) ^ (size as usize).wrapping_mul(0x9E37_79B9);
    &HINTS[mixed & (SLOTS - 1)]
}

/// CPython's dict object and keys table (`Include/cpython/dictobject.h`, `Include/internal/pycore_dict.h`, 3.11
/// to 3.13), as far as reading an entry needs them. Used only once `probe` has confirmed them.
mod layout {
    use pyo3::ffi;

    #[repr(C)]
    pub(super) struct Dict {
        pub ob_refcnt: ffi::Py_ssize_t,
        pub ob_type: *mut ffi::PyTypeObject,
        pub ma_used: ffi::Py_ssize_t,
        pub ma_version_tag: u64,
        pub ma_keys: *mut Keys,
        pub ma_values: *mut std::ffi::c_void,
    }

    #[repr(C)]
    pub(super) struct Keys {
        pub dk_refcnt: ffi::Py_ssize_t,
        pub dk_log2_size: u8,
        pub dk_log2_index_bytes: u8,
        pub dk_kind: u8,
        pub dk_version: u32,
        pub dk_usable: ffi::Py_ssize_t,
        pub dk_nentries: ffi::Py_ssize_t,
        // dk_indices: 1 << dk_log2_index_bytes bytes, then the entries
    }

    #[repr(C)]
    pub(super) struct Entry {
        pub me_key: *mut ffi::PyObject,
        pub me_value: *mut ffi::PyObject,
    }

    /// `DICT_KEYS_UNICODE`: every key a str, entries without their hash.
    pub(super) const UNICODE: u8 = 1;

    /// The entry table of a combined unicode-keyed dict, its length and the dict's size; None for any other kind.
    ///
    /// SAFETY (callers): `d` is a live, exact dict and the layout is confirmed (`DIRECT`).
    pub(super) unsafe fn entries(d: *mut ffi::PyObject) -> Option<(*mut Entry, ffi::Py_ssize_t, ffi::Py_ssize_t)> {
        let dict = d as *const Dict;
        if !(*dict).ma_values.is_null() {
            return None;
        }
        let keys = (*dict).ma_keys;
        if (*keys).dk_kind != UNICODE {
            return None;
        }
        let table = (keys as *mut u8).add(std::mem::size_of::<Keys>() + (1usize << (*keys).dk_log2_index_bytes));
        Some((table as *mut Entry, (*keys).dk_nentries, (*dict).ma_used))
    }
}

/// Whether this interpreter's dicts have the layout `layout` states: dicts of unicode keys, built by insertion
/// (with a resize and a deletion) and by copy, read the same entries directly as through `PyDict_Next`.
fn probe(py: Python<'_>) -> PyResult<bool> {
    let version = py.version_info();
    if version.major != 3 || !(11..=13).contains(&version.minor) {
        return Ok(false);
    }
    let built = PyDict::new(py);
    for i in 0..40 {
        built.set_item(PyString::new(py, &format!("probe_field_{i}")), i * 1_000_003 + 1_000_000_007i64)?;
    }
    built.del_item("probe_field_7")?;
    let copied = built.copy()?;
    for d in [&built, &copied] {
        // SAFETY: `d` is a live exact dict; its entries are only read, under the GIL, while it is alive.
        let same = unsafe {
            let p = d.as_ptr();
            match layout::entries(p) {
                None => false,
                Some((table, n, used)) => {
                    let (mut pos, mut k, mut v) = (0, std::ptr::null_mut(), std::ptr::null_mut());
                    let mut seen = 0;
                    let mut agree = used == ffi::PyDict_Size(p);
                    while agree && ffi::PyDict_Next(p, &mut pos, &mut k, &mut v) != 0 {
                        let entry = &*table.offset(pos - 1);
                        agree = pos <= n && entry.me_key == k && entry.me_value == v;
                        seen += 1;
                    }
                    agree && seen == used
                }
            }
        };
        if !same {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Decide once whether reads go straight to the entry table (at module import).
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    DIRECT.store(probe(py)?, Ordering::Relaxed);
    PROBED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Read entries straight from the table when the probe allowed it (`on`), or always through `PyDict_Next`: the
/// results are the same either way (the tests run the kernel both ways). Returns whether direct reads are on.
#[pyfunction]
pub(crate) fn set_direct(py: Python<'_>, on: bool) -> PyResult<bool> {
    if !PROBED.load(Ordering::Relaxed) {
        init(py)?;
    }
    let direct = on && probe(py)?;
    DIRECT.store(direct, Ordering::Relaxed);
    Ok(direct)
}

/// The index of `key`'s entry in `d`'s table, learned through the hint; None when `key` is not there as that
/// very object.
///
/// SAFETY (callers): as `layout::entries`.
unsafe fn direct_index(table: *mut layout::Entry, n: ffi::Py_ssize_t, used: ffi::Py_ssize_t, key: *mut ffi::PyObject) -> Option<isize> {
    let hint = slot(key, used);
    let learned = hint.load(Ordering::Relaxed);
    if learned == UNKNOWN {
        return None;
    }
    if learned < n {
        let entry = &*table.offset(learned);
        if entry.me_key == key && !entry.me_value.is_null() {
            return Some(learned);
        }
    }
    for i in 0..n {
        let entry = &*table.offset(i);
        if entry.me_key == key && !entry.me_value.is_null() {
            hint.store(i, Ordering::Relaxed);
            return Some(i);
        }
    }
    None
}

/// The value of `key` in `d`, borrowed from `d`; null when absent, with an error set if the lookup raised.
///
/// SAFETY (callers): `d` and `key` are live, and the result is used only while `d` is, unchanged.
unsafe fn borrowed(d: *mut ffi::PyObject, key: *mut ffi::PyObject) -> *mut ffi::PyObject {
    if DIRECT.load(Ordering::Relaxed) && ffi::PyDict_CheckExact(d) != 0 {
        if let Some((table, n, used)) = layout::entries(d) {
            if let Some(i) = direct_index(table, n, used, key) {
                return (*table.offset(i)).me_value;
            }
            return lookup(d, key, slot(key, used));
        }
    }
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
    lookup(d, key, hint)
}

/// The hash lookup: the key is absent, or under an equal string that is not the interned name (then the slot
/// stops looking by position).
unsafe fn lookup(d: *mut ffi::PyObject, key: *mut ffi::PyObject, hint: &AtomicIsize) -> *mut ffi::PyObject {
    let v = ffi::PyDict_GetItemWithError(d, key);
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

/// `d[key] = value` for a dict the kernel has just copied from a template and no one else has seen yet: the
/// value replaces the entry's in place when the key is there (the dict's keys, order and size do not change, so
/// nothing that watches dicts can have looked at it), else it goes through `PyDict_SetItem`.
pub(crate) fn put<'py, V>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>, value: V) -> PyResult<()>
where
    V: IntoPyObject<'py>,
{
    let py = d.py();
    let value = value.into_bound_py_any(py)?;
    // SAFETY: `d` is live and exact, the layout confirmed; the entry's old value is released after the new one is
    // in place, and the dict is GC-tracked since it may now hold a container.
    unsafe {
        let p = d.as_ptr();
        if DIRECT.load(Ordering::Relaxed) && ffi::PyDict_CheckExact(p) != 0 {
            if let Some((table, n, used)) = layout::entries(p) {
                if let Some(i) = direct_index(table, n, used, key.as_ptr()) {
                    let entry = &mut *table.offset(i);
                    let old = std::mem::replace(&mut entry.me_value, value.into_ptr());
                    if ffi::PyObject_GC_IsTracked(p) == 0 {
                        ffi::PyObject_GC_Track(p.cast());
                    }
                    ffi::Py_DECREF(old);
                    return Ok(());
                }
            }
        }
    }
    d.set_item(key, value)
}
