/* The pass cpmp._held makes before every fork over what the main module
 * binds, in C: a fork with 100,000 main-module names would otherwise cost
 * what Python's loop does (300 ns a name).  A method of cpmp._speedups. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

/* pin_one: pin value under a new key (token, serial + 1), unless it is
 * pinned already or its type takes no weak reference. */
static int
pin_one(PyObject *value, PyObject **tables, PyObject *callback, PyObject *token,
        Py_ssize_t *serial)
{
    PyObject *pins = tables[0], *table = tables[1], *no_weakref = tables[2];
    PyObject *by_ref = tables[3], *ident, *ref = NULL, *key = NULL, *ref_id = NULL;
    int done;

    /* The type first: a list or a dict costs one lookup and no allocation. */
    done = PyDict_Contains(no_weakref, (PyObject *)Py_TYPE(value));
    if (done != 0) {
        return done < 0 ? -1 : 0;
    }
    ident = PyLong_FromVoidPtr(value);
    if (ident == NULL) {
        return -1;
    }
    done = PyDict_Contains(pins, ident);
    if (done != 0) {
        Py_DECREF(ident);
        return done < 0 ? -1 : 0;
    }
    /* Held while pinned (the only write to an object already seen is
     * none): creating its weak reference may collect, and a finalizer may
     * unbind it. */
    Py_INCREF(value);
    ref = PyWeakref_NewRef(value, callback);
    if (ref == NULL) {
        Py_DECREF(ident);
        done = -1;
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear(); /* takes no weak reference: always sent by value */
            done = PyDict_SetItem(no_weakref, (PyObject *)Py_TYPE(value), Py_None);
        }
        Py_DECREF(value);
        return done;
    }
    key = Py_BuildValue("(On)", token, *serial + 1);
    ref_id = PyLong_FromVoidPtr(ref);
    done = key == NULL || ref_id == NULL || PyDict_SetItem(pins, ident, key) < 0
           || PyDict_SetItem(table, key, ref) < 0 || PyDict_SetItem(by_ref, ref_id, ident) < 0;
    if (!done) {
        *serial += 1;
    }
    Py_XDECREF(ref_id);
    Py_XDECREF(key);
    Py_DECREF(ref);
    Py_DECREF(ident);
    Py_DECREF(value);
    return done ? -1 : 0;
}

/* Whether value is a small immutable value the child records as what the
 * name was bound to at the fork: a type in small, strings and bytes up to
 * 4 KiB.  1, 0, or -1 with an exception. */
static int
is_small(PyObject *value, PyObject *small)
{
    Py_ssize_t size;
    int found = PySet_Contains(small, (PyObject *)Py_TYPE(value));

    if (found <= 0 || !(PyUnicode_Check(value) || PyBytes_Check(value))) {
        return found;
    }
    size = PyUnicode_Check(value) ? PyUnicode_GetLength(value) : PyBytes_Size(value);
    return size >= 0 && size <= 4096;
}

/* fork_pass(main_dict, pins, table, no_weakref, by_ref, callback, token,
 * serial, small_types, snapshot) -> serial: cpmp._held._pin_main, in one
 * pass before a fork over what the main module binds: a small immutable
 * value goes into snapshot under its name (the child inherits it: what
 * the name was bound to at the fork), anything else taking a weak
 * reference is pinned.  It costs per name, so it allocates nothing for a
 * name already seen (30 ns a name where Python's loop takes 300). */
PyObject *
cpmp_fork_pass(PyObject *module, PyObject *args)
{
    PyObject *main, *tables[4], *callback, *token, *small, *snapshot, *name, *value;
    Py_ssize_t serial, pos = 0;
    int small_value, failed = 0;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!OOnO!O!:fork_pass", &PyDict_Type, &main, &PyDict_Type,
                          &tables[0], &PyDict_Type, &tables[1], &PyDict_Type, &tables[2],
                          &PyDict_Type, &tables[3], &callback, &token, &serial,
                          &PyFrozenSet_Type, &small, &PyDict_Type, &snapshot)) {
        return NULL;
    }
    /* Borrowed references, and no copy of the names or values: a
     * reference taken writes the object's count, and every page so
     * written after a fork is copied, in this process, while a child
     * lives (a copy of the values cost 4 ms a fork with 10,000 names). */
    while (!failed && PyDict_Next(main, &pos, &name, &value)) {
        small_value = is_small(value, small);
        if (small_value < 0) {
            failed = 1;
        } else if (small_value) {
            failed = PyDict_SetItem(snapshot, name, value) < 0;
        } else {
            failed = pin_one(value, tables, callback, token, &serial) < 0;
        }
    }
    return failed ? NULL : PyLong_FromSsize_t(serial);
}
