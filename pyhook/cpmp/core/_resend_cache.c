/* The cache of cpmp._resend.sent, checked without running Python: an
 * entry answers a send of the function it was made from while every object
 * the bytes were made from is still the very one recorded (identity, never
 * ==), and no module is registered to go by value.  The layout of an entry
 * is cpmp._resend.ENTRY, read by name in cpmp_cache_set(). */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *sent;            /* cpmp._resend.sent: {id(func): entry} */
static PyObject *by_reference; /* cpmp._resend.by_reference */
static PyObject *empty_cell;      /* cpmp.core._wire.EMPTY_CELL */
static PyObject *pinned_attrs;    /* cpmp._resend.PINNED: attribute names */

/* The names looked up at each send, interned once (making the string each
 * time cost more than the lookup); name() is borrowed, NULL on error. */
enum name { n_kwdefaults, n_annotations, n_closure, n_cell_contents, n_globals, n_dict,
            n_module, n_qualname, n_cloudpickle, n_by_value_modules, n_count };
static const char *const name_text[n_count] = {
    "__kwdefaults__", "__annotations__", "__closure__", "cell_contents", "__globals__",
    "__dict__", "__module__", "__qualname__", "cloudpickle.cloudpickle",
    "_PICKLE_BY_VALUE_MODULES",
};
static PyObject *names[n_count];

static PyObject *
name(enum name which)
{
    if (names[which] == NULL) {
        names[which] = PyUnicode_InternFromString(name_text[which]);
    }
    return names[which];
}

static PyObject *
attr(PyObject *obj, enum name which)
{
    return name(which) == NULL ? NULL : PyObject_GetAttr(obj, names[which]);
}

/* Where each field of an entry is (from cpmp._resend.ENTRY). */
static Py_ssize_t e_ref, e_pinned, e_kwdefaults, e_annotations, e_cells, e_globals,
    e_byref, e_reduce, e_size;

/* Whether the dict attribute `name` of func holds exactly the (key, value)
 * pairs `want`, by identity (None: absent or empty). */
static int
attr_items_same(PyObject *func, enum name which, PyObject *want)
{
    PyObject *have = attr(func, which);
    PyObject *key, *value;
    Py_ssize_t pos = 0, i = 0;
    int result;

    if (have == NULL) {
        /* 3.14's __annotations__ evaluates them, and may raise (PEP 649):
         * a miss, and the slow path sends their text (_wire.annotations). */
        PyErr_Clear();
        return 0;
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
    PyObject *closure = attr(func, n_closure);
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
        PyObject *value = attr(PyTuple_GetItem(closure, i), n_cell_contents);

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
    globals = attr(func, n_globals);
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

/* 1 when no module is registered with cloudpickle to go by value: a
 * registration changes what a function sent again is (cached entries are
 * made only while none is, see cpmp._resend.registry_empty). */
int
cpmp_registry_empty(void)
{
    PyObject *key = name(n_cloudpickle);
    PyObject *cp = key == NULL ? NULL : PyDict_GetItemWithError(PyImport_GetModuleDict(), key);
    PyObject *registry;
    Py_ssize_t size;

    if (cp == NULL) {
        PyErr_Clear(); /* as before: no registry */
        return 1;
    }
    registry = attr(cp, n_by_value_modules);
    if (registry == NULL) {
        PyErr_Clear();
        return 1;
    }
    size = PyObject_Size(registry);
    Py_DECREF(registry);
    if (size < 0) {
        PyErr_Clear();
        return 0;
    }
    return size == 0;
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

/* 1 when every definition the bytes name by reference still goes so
 * (cpmp_by_reference), 0 when not, -1 with an error set. */
static int
refs_hold(PyObject *refs)
{
    Py_ssize_t i;
    int ok = 1;

    if (!PyTuple_Check(refs)) {
        return 0;
    }
    for (i = 0; i < PyTuple_Size(refs) && ok == 1; i++) {
        ok = cpmp_by_reference(PyTuple_GetItem(refs, i));
    }
    return ok;
}

/* The reduce tuple `table` ({id(func): entry}; NULL: cpmp._resend.sent)
 * cached for func, when func would still pickle to the same bytes
 * (compared by identity, never by guessing): a new reference, or NULL
 * with no error set when there is none. */
PyObject *
cpmp_cached_reduce(PyObject *table, PyObject *func)
{
    PyObject *key, *entry, *dict, *reduce;
    int ok;

    key = PyLong_FromVoidPtr(func);
    if (key == NULL) {
        return NULL;
    }
    entry = PyDict_GetItemWithError(table == NULL ? sent : table, key);
    Py_DECREF(key);
    if (entry == NULL || !PyTuple_Check(entry) || PyTuple_Size(entry) != e_size) {
        return NULL;
    }
    ok = cpmp_registry_empty() ? same_function(entry, func) : 0;
    if (ok == 1) {
        dict = attr(func, n_dict);
        if (dict == NULL) {
            return NULL;
        }
        ok = PyDict_Check(dict) && PyDict_Size(dict) == 0;
        Py_DECREF(dict);
    }
    if (ok == 1) {
        ok = attr_items_same(func, n_kwdefaults, PyTuple_GetItem(entry, e_kwdefaults));
    }
    if (ok == 1) {
        ok = attr_items_same(func, n_annotations, PyTuple_GetItem(entry, e_annotations));
    }
    if (ok == 1) {
        ok = cells_match(func, PyTuple_GetItem(entry, e_cells));
    }
    if (ok == 1) {
        ok = globals_match(func, PyTuple_GetItem(entry, e_globals));
    }
    if (ok == 1) {
        ok = refs_hold(PyTuple_GetItem(entry, e_byref));
    }
    if (ok != 1) {
        return NULL; /* with the error set when ok < 0 */
    }
    reduce = PyTuple_GetItem(entry, e_reduce);
    Py_INCREF(reduce);
    return reduce;
}

/* 1 when cpmp._resend.by_reference holds an entry (weak references to
 * func and its module, module name, qualified name) that still holds: func's
 * __module__ and __qualname__ are the very strings recorded, sys.modules
 * maps that name to the very module, and the module's attribute of that
 * name is func -- what cpmp._policy found when it decided that func goes
 * by reference.  0 when not, -1 with an error set. */
int
cpmp_by_reference(PyObject *func)
{
    PyObject *key, *entry, *have, *module;
    int ok = 1, i;
    static const enum name attrs[] = {n_module, n_qualname};

    if (by_reference == NULL || PyDict_Size(by_reference) == 0) {
        return 0;
    }
    key = PyLong_FromVoidPtr(func);
    if (key == NULL) {
        return -1;
    }
    entry = PyDict_GetItemWithError(by_reference, key);
    Py_DECREF(key);
    if (entry == NULL || !PyTuple_Check(entry) || PyTuple_Size(entry) != 4) {
        return PyErr_Occurred() ? -1 : 0;
    }
    have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(entry, 0), NULL);
    if (have == NULL) {
        return -1;
    }
    Py_DECREF(have); /* still referenced by the caller, when it is func */
    if (have != func) {
        return 0;
    }
    for (i = 0; i < 2 && ok; i++) {
        have = attr(func, attrs[i]);
        if (have == NULL) {
            return -1;
        }
        ok = have == PyTuple_GetItem(entry, 2 + i);
        Py_DECREF(have);
    }
    if (!ok) {
        return 0;
    }
    module = PyDict_GetItemWithError(PyImport_GetModuleDict(), PyTuple_GetItem(entry, 2));
    if (module == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    have = PyObject_CallFunctionObjArgs(PyTuple_GetItem(entry, 1), NULL);
    if (have == NULL) {
        return -1;
    }
    Py_DECREF(have); /* still referenced by sys.modules, when it is module */
    if (have != module) {
        return 0;
    }
    have = PyObject_GetAttr(module, PyTuple_GetItem(entry, 3));
    if (have == NULL) {
        PyErr_Clear(); /* the policy decides again, and says why */
        return 0;
    }
    Py_DECREF(have);
    return have == func && cpmp_registry_empty();
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
    PyErr_Format(PyExc_ValueError, "cpmp.core._resend.ENTRY has no field %s", name);
    return -1;
}

void
cpmp_by_reference_set(PyObject *table)
{
    cpmp_replace(&by_reference, table);
}

int
cpmp_cache_set(PyObject *cache, PyObject *empty, PyObject *pinned, PyObject *layout)
{
    Py_ssize_t i, n;

    if ((e_ref = field(layout, "ref")) < 0) {
        return -1;
    }
    /* The pinned attributes stand in the layout as themselves, after ref. */
    e_pinned = e_ref + 1;
    n = PyTuple_Size(pinned);
    for (i = 0; i < n; i++) {
        if (e_pinned + i >= PyTuple_Size(layout)
            || PyObject_RichCompareBool(PyTuple_GetItem(layout, e_pinned + i),
                                        PyTuple_GetItem(pinned, i), Py_EQ) != 1) {
            PyErr_SetString(PyExc_ValueError, "ENTRY does not hold PINNED right after ref");
            return -1;
        }
    }
    if ((e_kwdefaults = field(layout, "kwdefaults")) < 0
        || (e_annotations = field(layout, "annotations")) < 0
        || (e_cells = field(layout, "cells")) < 0 || (e_globals = field(layout, "globals")) < 0
        || (e_byref = field(layout, "byref")) < 0 || (e_reduce = field(layout, "reduce")) < 0) {
        return -1;
    }
    e_size = PyTuple_Size(layout);
    cpmp_replace(&sent, cache);
    cpmp_replace(&empty_cell, empty);
    cpmp_replace(&pinned_attrs, pinned);
    return 0;
}
