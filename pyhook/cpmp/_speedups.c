/* The C fast path of cpmp's pickler: a cache in front of its policy.
 *
 * The C pickler calls reducer_override for every object that is not an int,
 * float, str, bytes, bool or None.  A Python reducer_override costs a Python
 * call for every dict, list, tuple and instance (cloudpickle's Pickler is
 * 2.9x slower than the standard one on plain instances for that reason).
 * Here the common answers are C: "not a function or class: as always", and
 * "the same function as last time, unchanged: the same bytes" (an entry of
 * cpmp._resend.sent).  Every decision is Python's (cpmp._send, which asks
 * cpmp._policy).  The entry layout is cpmp._resend.ENTRY, given to
 * set_hooks by name: a name missing there makes set_hooks fail, and the
 * package runs without this module (cpmp doctor says why).  Also
 * function_with_builtins(), for cpmp._receive.  Stable ABI (3.8+): one
 * file serves every CPython the preload library supports. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *function_type;   /* types.FunctionType */
static PyObject *special_types;   /* NoneType, NotImplementedType, ellipsis */
static PyObject *reduce_function; /* cpmp._send.reduce_function */
static PyObject *reduce_class;    /* cpmp._send.reduce_class */
static PyObject *sent;            /* cpmp._resend.sent: {id(func): entry} */
static PyObject *empty_cell;      /* cpmp._receive.EMPTY_CELL */
static PyObject *pinned_attrs;    /* cpmp._resend.PINNED: attribute names */
static PyObject *str_builtins;
static Py_ssize_t hits;           /* sends answered from the cache */

/* Where each field of an entry is (from cpmp._resend.ENTRY). */
static Py_ssize_t e_ref, e_pinned, e_kwdefaults, e_annotations, e_cells, e_globals,
    e_reduce, e_size;

/* Whether the dict attribute `name` of func holds exactly the (key, value)
 * pairs `want`, by identity (None: absent or empty). */
static int
attr_items_same(PyObject *func, const char *name, PyObject *want)
{
    PyObject *have = PyObject_GetAttrString(func, name);
    PyObject *key, *value;
    Py_ssize_t pos = 0, i = 0;
    int result;

    if (have == NULL) {
        return -1;
    }
    if (have == Py_None || (PyDict_Check(have) && PyDict_Size(have) == 0)) {
        result = want == Py_None;
    } else if (want == Py_None || !PyDict_Check(have) || !PyTuple_Check(want)
               || PyDict_Size(have) != PyTuple_Size(want)) {
        result = 0;
    } else {
        /* Same keys and values, the very objects, in the same order: == would
         * take 1 for True and give stale bytes. */
        result = 1;
        while (result && PyDict_Next(have, &pos, &key, &value)) {
            PyObject *pair = PyTuple_GetItem(want, i++);

            result = PyTuple_Check(pair) && PyTuple_Size(pair) == 2
                     && PyTuple_GetItem(pair, 0) == key && PyTuple_GetItem(pair, 1) == value;
        }
    }
    Py_DECREF(have);
    return result;
}

/* 1 when every cell of func holds the very object the entry recorded. */
static int
cells_match(PyObject *func, PyObject *cells)
{
    PyObject *closure = PyObject_GetAttrString(func, "__closure__");
    Py_ssize_t i, n;
    int result = 1;

    if (closure == NULL) {
        return -1;
    }
    n = closure == Py_None ? 0 : PyTuple_Size(closure);
    if (n != PyTuple_Size(cells)) {
        result = 0;
    }
    for (i = 0; result == 1 && i < n; i++) {
        PyObject *value = PyObject_GetAttrString(PyTuple_GetItem(closure, i), "cell_contents");

        if (value == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
                result = -1;
                break;
            }
            PyErr_Clear(); /* an empty cell */
            value = empty_cell;
            Py_INCREF(value);
        }
        result = value == PyTuple_GetItem(cells, i);
        Py_DECREF(value);
    }
    Py_DECREF(closure);
    return result;
}

/* 1 when every global the entry carries is still the very object recorded. */
static int
globals_match(PyObject *func, PyObject *pairs)
{
    PyObject *globals;
    Py_ssize_t i;
    int result = 1;

    if (PyTuple_Size(pairs) == 0) {
        return 1;
    }
    globals = PyObject_GetAttrString(func, "__globals__");
    if (globals == NULL) {
        return -1;
    }
    for (i = 0; result == 1 && i < PyTuple_Size(pairs); i++) {
        PyObject *pair = PyTuple_GetItem(pairs, i);
        PyObject *value = PyDict_GetItemWithError(globals, PyTuple_GetItem(pair, 0));

        if (value == NULL && PyErr_Occurred()) {
            result = -1;
        } else {
            result = (value == NULL ? empty_cell : value) == PyTuple_GetItem(pair, 1);
        }
    }
    Py_DECREF(globals);
    return result;
}

/* 1 when the entry was made from func and func's pinned attributes are
 * still the very objects recorded, 0 when not, -1 with an error set. */
static int
same_function(PyObject *entry, PyObject *func)
{
    PyObject *have;
    Py_ssize_t i;

    /* Calling the weak reference: PyWeakref_GetObject is deprecated in
     * 3.13, and its successor is not in the stable ABI of 3.8. */
    have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(entry, e_ref), NULL);
    if (have == NULL) {
        return -1;
    }
    Py_DECREF(have); /* still referenced by the caller, when it is func */
    if (have != func) {
        return 0;
    }
    for (i = 0; i < PyTuple_Size(pinned_attrs); i++) {
        have = PyObject_GetAttr(func, PyTuple_GetItem(pinned_attrs, i));
        if (have == NULL) {
            return -1;
        }
        Py_DECREF(have); /* still referenced by func */
        if (have != PyTuple_GetItem(entry, e_pinned + i)) {
            return 0;
        }
    }
    return 1;
}

/* The reduce tuple cpmp._resend cached for func, when func would still
 * pickle to the same bytes (compared by identity, never by guessing): a
 * new reference, or NULL with no error set when there is none. */
static PyObject *
cached_reduce(PyObject *func)
{
    PyObject *key, *entry, *dict, *reduce;
    int ok;

    key = PyLong_FromVoidPtr(func);
    if (key == NULL) {
        return NULL;
    }
    entry = PyDict_GetItemWithError(sent, key);
    Py_DECREF(key);
    if (entry == NULL || !PyTuple_Check(entry) || PyTuple_Size(entry) != e_size) {
        return NULL;
    }
    ok = same_function(entry, func);
    if (ok == 1) {
        dict = PyObject_GetAttrString(func, "__dict__");
        if (dict == NULL) {
            return NULL;
        }
        ok = PyDict_Check(dict) && PyDict_Size(dict) == 0;
        Py_DECREF(dict);
    }
    if (ok == 1) {
        ok = attr_items_same(func, "__kwdefaults__", PyTuple_GetItem(entry, e_kwdefaults));
    }
    if (ok == 1) {
        ok = attr_items_same(func, "__annotations__", PyTuple_GetItem(entry, e_annotations));
    }
    if (ok == 1) {
        ok = cells_match(func, PyTuple_GetItem(entry, e_cells));
    }
    if (ok == 1) {
        ok = globals_match(func, PyTuple_GetItem(entry, e_globals));
    }
    if (ok != 1) {
        return NULL; /* with the error set when ok < 0 */
    }
    hits++;
    reduce = PyTuple_GetItem(entry, e_reduce);
    Py_INCREF(reduce);
    return reduce;
}

static PyObject *
speedups_reducer_override(PyObject *module, PyObject *obj)
{
    (void)module;
    if (reduce_function == NULL) {
        /* set_hooks() not called yet: nothing is patched. */
    } else if ((PyObject *)Py_TYPE(obj) == function_type) {
        /* The same function sent again: no Python code at all. */
        PyObject *cached = cached_reduce(obj);

        if (cached != NULL || PyErr_Occurred()) {
            return cached;
        }
        return PyObject_CallFunctionObjArgs(reduce_function, obj, NULL);
    } else if (PyType_Check(obj)) {
        int special = PySequence_Contains(special_types, obj);

        if (special < 0) {
            return NULL;
        }
        if (!special) {
            return PyObject_CallFunctionObjArgs(reduce_class, obj, NULL);
        }
    }
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

static void
replace(PyObject **slot, PyObject *value)
{
    Py_INCREF(value);
    Py_XDECREF(*slot);
    *slot = value;
}

/* The index of field `name` in the entry layout, or -1 with ValueError. */
static Py_ssize_t
field(PyObject *layout, const char *name)
{
    Py_ssize_t i;

    for (i = 0; i < PyTuple_Size(layout); i++) {
        PyObject *item = PyTuple_GetItem(layout, i);

        if (PyUnicode_Check(item) && PyUnicode_CompareWithASCIIString(item, name) == 0) {
            return i;
        }
    }
    PyErr_Format(PyExc_ValueError, "cpmp._resend.ENTRY has no field %s", name);
    return -1;
}

static PyObject *
speedups_set_hooks(PyObject *module, PyObject *args)
{
    PyObject *rf, *rc, *cache, *empty, *pinned, *layout;
    Py_ssize_t i, n;

    (void)module;
    if (!PyArg_ParseTuple(args, "OOO!OO!O!:set_hooks", &rf, &rc, &PyDict_Type, &cache,
                          &empty, &PyTuple_Type, &pinned, &PyTuple_Type, &layout)) {
        return NULL;
    }
    if ((e_ref = field(layout, "ref")) < 0) {
        return NULL;
    }
    /* The pinned attributes stand in the layout as themselves, after ref. */
    e_pinned = e_ref + 1;
    n = PyTuple_Size(pinned);
    for (i = 0; i < n; i++) {
        if (e_pinned + i >= PyTuple_Size(layout)
            || PyObject_RichCompareBool(PyTuple_GetItem(layout, e_pinned + i),
                                        PyTuple_GetItem(pinned, i), Py_EQ) != 1) {
            PyErr_SetString(PyExc_ValueError, "ENTRY does not hold PINNED right after ref");
            return NULL;
        }
    }
    if ((e_kwdefaults = field(layout, "kwdefaults")) < 0
        || (e_annotations = field(layout, "annotations")) < 0
        || (e_cells = field(layout, "cells")) < 0 || (e_globals = field(layout, "globals")) < 0
        || (e_reduce = field(layout, "reduce")) < 0) {
        return NULL;
    }
    e_size = PyTuple_Size(layout);
    replace(&reduce_function, rf);
    replace(&reduce_class, rc);
    replace(&sent, cache);
    replace(&empty_cell, empty);
    replace(&pinned_attrs, pinned);
    Py_RETURN_NONE;
}

/* FunctionType(code, globals, None, None, closure) whose builtins are
 * `builtins`: functions take theirs from globals["__builtins__"] when they
 * are made (3.10+), so it is swapped for the call.  No Python code runs
 * in between, so no other thread can see the swap. */
static PyObject *
speedups_function_with_builtins(PyObject *module, PyObject *args)
{
    PyObject *code, *globals, *builtins, *closure, *saved, *func, *call_args;

    (void)module;
    if (!PyArg_ParseTuple(args, "OO!O!O:function_with_builtins", &code, &PyDict_Type,
                          &globals, &PyDict_Type, &builtins, &closure)) {
        return NULL;
    }
    call_args = Py_BuildValue("(OOOOO)", code, globals, Py_None, Py_None, closure);
    if (call_args == NULL) {
        return NULL;
    }
    saved = PyDict_GetItemWithError(globals, str_builtins);
    if (saved == NULL) {
        Py_DECREF(call_args);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_KeyError, "__builtins__");
        }
        return NULL;
    }
    Py_INCREF(saved);
    if (PyDict_SetItem(globals, str_builtins, builtins) < 0) {
        Py_DECREF(saved);
        Py_DECREF(call_args);
        return NULL;
    }
    func = PyObject_Call(function_type, call_args, NULL);
    Py_DECREF(call_args);
    if (PyDict_SetItem(globals, str_builtins, saved) < 0) {
        Py_CLEAR(func);
    }
    Py_DECREF(saved);
    return func;
}

static PyObject *
speedups_hits(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromSsize_t(hits);
}

static PyMethodDef speedups_methods[] = {
    {"reducer_override", speedups_reducer_override, METH_O,
     "reducer_override(obj): a reduce tuple for a function or class that must "
     "go by value, else NotImplemented."},
    {"set_hooks", speedups_set_hooks, METH_VARARGS,
     "set_hooks(reduce_function, reduce_class, sent, EMPTY_CELL, PINNED, ENTRY)"},
    {"function_with_builtins", speedups_function_with_builtins, METH_VARARGS,
     "function_with_builtins(code, globals, builtins, closure)"},
    {"hits", speedups_hits, METH_NOARGS,
     "hits(): how many sends the cache answered in this process."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "cpmp._speedups",
    "C fast path of cpmp's pickler (see cpmp._reduce).", -1,
    speedups_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *types = PyImport_ImportModule("types");

    if (types == NULL) {
        return NULL;
    }
    function_type = PyObject_GetAttrString(types, "FunctionType");
    Py_DECREF(types);
    special_types = Py_BuildValue("(OOO)", (PyObject *)Py_TYPE(Py_None),
                                  (PyObject *)Py_TYPE(Py_NotImplemented),
                                  (PyObject *)Py_TYPE(Py_Ellipsis));
    str_builtins = PyUnicode_InternFromString("__builtins__");
    if (function_type == NULL || special_types == NULL || str_builtins == NULL) {
        return NULL;
    }
    return PyModule_Create(&speedups_module);
}
