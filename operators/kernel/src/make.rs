//! Building an event model instance from a complete field dict, as `operators.construct.Constructor.build` does
//! (`object.__new__`, then the instance dict, the fields set, no extra and no private state through the model's
//! slot descriptors), without a Python call per event.
//!
//! The hooks hand over the constructor's `kernel_parts()`: (model, fields set, (fields-set, extra, private slot
//! descriptors)), or None when every event must go through `Constructor.build` (`VALIDATE_EVENTS`, the tests).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::os::raw::c_int;

type DescrSet = unsafe extern "C" fn(*mut ffi::PyObject, *mut ffi::PyObject, *mut ffi::PyObject) -> c_int;
type New = unsafe extern "C" fn(*mut ffi::PyTypeObject, *mut ffi::PyObject, *mut ffi::PyObject) -> *mut ffi::PyObject;

pub(crate) struct Maker<'py> {
    model: Bound<'py, PyAny>,
    fields_set: Bound<'py, PyAny>,
    slots: [(Bound<'py, PyAny>, DescrSet); 3],
    new: New,
    no_args: Bound<'py, PyTuple>,
}

/// A type's slot function, or a `TypeError` when it has none.
fn slot_of(tp: *mut ffi::PyTypeObject, slot: c_int, what: &str) -> PyResult<*mut std::os::raw::c_void> {
    // SAFETY: `tp` is a live type object; `PyType_GetSlot` accepts every type since 3.10.
    let f = unsafe { ffi::PyType_GetSlot(tp, slot) };
    if f.is_null() {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!("kernel_parts: no {what}")));
    }
    Ok(f)
}

impl<'py> Maker<'py> {
    /// The maker of `parts` (`Constructor.kernel_parts()`), or None when `parts` is None.
    pub(crate) fn of(parts: &Bound<'py, PyAny>) -> PyResult<Option<Self>> {
        if parts.is_none() {
            return Ok(None);
        }
        let py = parts.py();
        let (model, fields_set, (a, b, c)): (Bound<PyAny>, Bound<PyAny>, (Bound<PyAny>, Bound<PyAny>, Bound<PyAny>)) =
            parts.extract()?;
        let setter = |descr: Bound<'py, PyAny>| -> PyResult<(Bound<'py, PyAny>, DescrSet)> {
            let tp = descr.get_type().as_type_ptr();
            let f = slot_of(tp, ffi::Py_tp_descr_set, "descriptor setter")?;
            // SAFETY: the slot holds a `descrsetfunc`.
            Ok((descr, unsafe { std::mem::transmute::<*mut std::os::raw::c_void, DescrSet>(f) }))
        };
        // `PyBaseObject_Type` is `object`, alive for the interpreter's life.
        let object = std::ptr::addr_of_mut!(ffi::PyBaseObject_Type);
        let new = slot_of(object, ffi::Py_tp_new, "object.__new__")?;
        Ok(Some(Maker {
            model,
            fields_set,
            slots: [setter(a)?, setter(b)?, setter(c)?],
            // SAFETY: the slot holds a `newfunc`.
            new: unsafe { std::mem::transmute::<*mut std::os::raw::c_void, New>(new) },
            no_args: PyTuple::empty(py),
        }))
    }

    /// The event of `fields` (every field, in model order).
    pub(crate) fn make(&self, fields: Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let py = fields.py();
        // SAFETY: `object.__new__(model)` with no arguments; every pointer is live; each setter returns -1 with an
        // error set on failure.
        unsafe {
            let model = self.model.as_ptr() as *mut ffi::PyTypeObject;
            let event = Bound::from_owned_ptr_or_err(py, (self.new)(model, self.no_args.as_ptr(), std::ptr::null_mut()))?;
            let e = event.as_ptr();
            if ffi::PyObject_GenericSetDict(e, fields.as_ptr(), std::ptr::null_mut()) < 0 {
                return Err(PyErr::fetch(py));
            }
            let values = [self.fields_set.as_ptr(), ffi::Py_None(), ffi::Py_None()];
            for ((descr, set), value) in self.slots.iter().zip(values) {
                if set(descr.as_ptr(), e, value) < 0 {
                    return Err(PyErr::fetch(py));
                }
            }
            Ok(event)
        }
    }
}
