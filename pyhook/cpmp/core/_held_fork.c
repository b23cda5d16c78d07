/* The loops cpmp._held runs at every fork over what the main module
 * binds, in C: a fork with 100,000 main-module names would otherwise cost
 * what Python's loops do (300 ns a name).  Methods of cpmp._speedups. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

/* pin_values(values, pins, table, no_weakref, by_ref, callback, token,
 * serial) -> serial: cpmp._held._pin_main's loop, at a fork, over every
 * value the main module binds (so it costs per name, and a fork with
 * 100,000 names must not cost what Python's loop does). */
static int
pin_one(PyObject *value, PyObject **tables, PyObject *callback, PyObject *token,
        Py_ssize_t *serial)
{
    PyObject *pins = tables[0], *table = tables[1], *no_weakref = tables[2];
    PyObject *by_ref = tables[3], *ident, *ref = NULL, *key = NULL, *ref_id = NULL;
    int done;

    ident = PyLong_FromVoidPtr(value);
    if (ident == NULL) {
        return -1;
    }
    done = PyDict_Contains(pins, ident);
    if (done == 0) {
        done = PyDict_Contains(no_weakref, (PyObject *)Py_TYPE(value));
    }
    if (done != 0) {
        Py_DECREF(ident);
        return done < 0 ? -1 : 0;
    }
    ref = PyWeakref_NewRef(value, callback);
    if (ref == NULL) {
        Py_DECREF(ident);
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;
        }
        PyErr_Clear(); /* takes no weak reference: always sent by value */
        return PyDict_SetItem(no_weakref, (PyObject *)Py_TYPE(value), Py_None);
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
    return done ? -1 : 0;
}

PyObject *
cpmp_pin_values(PyObject *module, PyObject *args)
{
    PyObject *values, *tables[4], *callback, *token;
    Py_ssize_t serial, i, n;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!OOn:pin_values", &PyList_Type, &values, &PyDict_Type,
                          &tables[0], &PyDict_Type, &tables[1], &PyDict_Type, &tables[2],
                          &PyDict_Type, &tables[3], &callback, &token, &serial)) {
        return NULL;
    }
    n = PyList_Size(values);
    for (i = 0; i < n; i++) {
        /* Borrowed: the list, the caller's, holds them. */
        if (pin_one(PyList_GetItem(values, i), tables, callback, token, &serial) < 0) {
            return NULL;
        }
    }
    return PyLong_FromSsize_t(serial);
}

/* inherited_values(main_dict, out, small_types): what a forked child's
 * main module binds to small immutable values, for
 * cpmp._held._remember_inherited: out[name] = the value, when its type is
 * in small_types (strings and bytes up to 4 KiB). */
PyObject *
cpmp_inherited_values(PyObject *module, PyObject *args)
{
    PyObject *main, *out, *small, *name, *value;
    Py_ssize_t pos = 0, size;
    int is_small;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!:inherited_values", &PyDict_Type, &main, &PyDict_Type,
                          &out, &PyFrozenSet_Type, &small)) {
        return NULL;
    }
    while (PyDict_Next(main, &pos, &name, &value)) {
        is_small = PySet_Contains(small, (PyObject *)Py_TYPE(value));
        if (is_small < 0) {
            return NULL;
        }
        if (is_small && (PyUnicode_Check(value) || PyBytes_Check(value))) {
            size = PyUnicode_Check(value) ? PyUnicode_GetLength(value) : PyBytes_Size(value);
            is_small = size >= 0 && size <= 4096;
        }
        if (is_small && PyDict_SetItem(out, name, value) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}
