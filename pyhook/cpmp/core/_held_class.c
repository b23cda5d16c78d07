/* A main-module class a forked receiver holds, sent again: the reference
 * cpmp._send made for it last time, without running Python, while the class
 * provably still pickles to the fallback that reference carries.
 *
 * The proof is cpmp._fallback's: the snapshot of the class (its metaclass,
 * bases, name and every item of its dict, each immutable, a C descriptor, a
 * definition sent by reference or a function whose resend entry holds) is
 * the same, object for object, as when the fallback was made (compared in
 * _snapshot.c).  The rest of what the reference was made from is in its
 * record
 * (cpmp._fallback.held_classes): the pin serial (a fork since makes new keys),
 * the class's module and qualified name, and that module still binding the
 * class under that name (what cpmp._policy read). */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *table;     /* cpmp._fallback.held_classes: {id(cls): record} */
static PyObject *held_dict; /* cpmp.core._held's globals: its _serial */
static PyObject *n_serial, *n_qualname, *n_module;

/* A new reference to obj's attribute `name`, or NULL with no error. */
static PyObject *
get(PyObject *obj, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(obj, name);

    if (value == NULL) {
        PyErr_Clear();
    }
    return value;
}

/* 1 when every weak reference in `weak` still has its object: an id of a
 * dead one may be a new object's. */
static int
all_alive(PyObject *weak)
{
    Py_ssize_t i;

    for (i = 0; i < PyTuple_Size(weak); i++) {
        PyObject *have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(weak, i), NULL);

        if (have == NULL) {
            PyErr_Clear();
            return 0;
        }
        Py_DECREF(have);
        if (have == Py_None) {
            return 0;
        }
    }
    return 1;
}

/* The record's class, module and name still what the policy read. */
static int
record_holds(PyObject *record, PyObject *cls)
{
    PyObject *have, *module;
    int ok;

    have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(record, 0), NULL);
    if (have == NULL) {
        return 0;
    }
    Py_DECREF(have); /* still referenced by the caller, when it is cls */
    if (have != cls || !cpmp_registry_empty()) {
        return 0;
    }
    have = PyDict_GetItemWithError(held_dict, n_serial);
    if (have == NULL || PyObject_RichCompareBool(have, PyTuple_GetItem(record, 4), Py_EQ) != 1) {
        return 0;
    }
    have = get(cls, n_qualname);
    ok = have == PyTuple_GetItem(record, 1);
    Py_XDECREF(have);
    have = ok ? get(cls, n_module) : NULL;
    ok = ok && have == PyTuple_GetItem(record, 2);
    Py_XDECREF(have);
    if (!ok) {
        return 0;
    }
    module = PyDict_GetItemWithError(PyImport_GetModuleDict(), PyTuple_GetItem(record, 2));
    have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(record, 3), NULL);
    if (module == NULL || have == NULL) {
        Py_XDECREF(have);
        return 0;
    }
    Py_DECREF(have); /* still referenced by sys.modules, when it is module */
    if (have != module) {
        return 0;
    }
    have = PyObject_GetAttr(module, PyTuple_GetItem(record, 1));
    Py_XDECREF(have);
    return have == cls;
}

/* The reference the record for cls holds, while it still holds: a new
 * reference, or NULL, never with an error set (the Python path then
 * decides, and raises what it raises). */
PyObject *
cpmp_held_class(PyObject *cls)
{
    PyObject *key, *record, *fingerprint, *reduce = NULL;

    if (table == NULL || PyDict_Size(table) == 0) {
        return NULL;
    }
    key = PyLong_FromVoidPtr(cls);
    record = key == NULL ? NULL : PyDict_GetItemWithError(table, key);
    Py_XDECREF(key);
    if (record == NULL || !PyTuple_Check(record) || PyTuple_Size(record) != 7) {
        PyErr_Clear();
        return NULL;
    }
    Py_INCREF(record); /* what the walk reads may run a metaclass's Python */
    fingerprint = PyTuple_GetItem(record, 5);
    if (record_holds(record, cls) && PyTuple_Check(fingerprint) && PyTuple_Size(fingerprint) == 3
        && cpmp_snapshot_is(cls, PyTuple_GetItem(fingerprint, 0))
        && all_alive(PyTuple_GetItem(fingerprint, 1))) {
        reduce = PyTuple_GetItem(record, 6);
        Py_INCREF(reduce);
    }
    Py_DECREF(record);
    PyErr_Clear();
    return reduce;
}

/* set_held(table, held_globals, (OPEN, CLOSE, BY_REFERENCE), descriptors,
 * value_types, kinds, holdable, own): see the module's method table. */
PyObject *
cpmp_set_held(PyObject *module, PyObject *args)
{
    PyObject *t, *g, *marks, *d, *v, *k, *h, *o;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!O!O!O!:set_held", &PyDict_Type, &t, &PyDict_Type, &g,
                          &PyTuple_Type, &marks, &PyTuple_Type, &d, &PyFrozenSet_Type, &v,
                          &PyTuple_Type, &k, &PyDict_Type, &h, &PySet_Type, &o)) {
        return NULL;
    }
    if ((n_serial == NULL && (n_serial = PyUnicode_InternFromString("_serial")) == NULL)
        || (n_qualname == NULL && (n_qualname = PyUnicode_InternFromString("__qualname__")) == NULL)
        || (n_module == NULL && (n_module = PyUnicode_InternFromString("__module__")) == NULL)
        || cpmp_snapshot_set(marks, d, v, k, h, o) < 0) {
        return NULL;
    }
    cpmp_replace(&held_dict, g);
    cpmp_replace(&table, t); /* last: the others are set when it is */
    Py_RETURN_NONE;
}

/* snapshot_is(cls, ids): the walk alone, for the tests. */
PyObject *
cpmp_snapshot_is_method(PyObject *module, PyObject *args)
{
    PyObject *cls, *ids;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!:snapshot_is", &PyType_Type, &cls, &PyBytes_Type, &ids)) {
        return NULL;
    }
    if (table == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "snapshot_is: set_held() first");
        return NULL;
    }
    return PyBool_FromLong(cpmp_snapshot_is(cls, ids));
}
