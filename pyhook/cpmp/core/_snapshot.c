/* The snapshot of a main-module class (cpmp._fallback), compared in C:
 * _fallback._class_items and its helpers, line for line, meeting each
 * object where the Python appends it and comparing it with the id recorded
 * there.  Where it cannot tell (a definition whose record is missing, a
 * walk too deep, an attribute that raises) it says "changed", and the
 * Python path decides, as it did before this file (_held_class.c). */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

#define HEAPTYPE (1UL << 9)
#define MAX_SEEN 32  /* classes in one walk: more, and Python decides */
#define MAX_ITEMS 10000 /* as _fallback._stable: a table is made afresh */

static PyObject *open_mark, *close_mark, *by_reference_mark; /* _fallback's */
static PyObject *descriptors; /* _fallback._DESCRIPTORS */
static PyObject *value_types; /* _resend.VALUE_TYPES */
static PyObject *kinds;       /* (staticmethod, classmethod, property, builtin function,
                               * FunctionType) */
static PyObject *holdable;    /* cpmp._resend.holdable */
static PyObject *own;         /* cpmp._cloud.OWN */
enum kind { k_static, k_classmethod, k_property, k_builtin, k_function, k_count };

enum name { n_bases, n_name, n_qualname, n_dict, n_objclass, n_self, n_func, n_fget, n_fset,
            n_fdel, n_count };
static const char *const name_text[n_count] = {
    "__bases__", "__name__", "__qualname__", "__dict__", "__objclass__", "__self__",
    "__func__", "fget", "fset", "fdel",
};
static PyObject *names[n_count];

/* A walk: the objects it must meet, in order, and where it is. */
struct walk {
    void *const *ids; /* the snapshot's ids, as pointers */
    Py_ssize_t n, at;
    PyObject *seen[MAX_SEEN];
    int nseen;
};

/* 1 when obj is the next object the snapshot recorded, else 0. */
static int
meet(struct walk *w, PyObject *obj)
{
    return w->at < w->n && w->ids[w->at++] == (void *)obj;
}

/* A new reference to obj's attribute `which`, or NULL with no error. */
static PyObject *
get(PyObject *obj, enum name which)
{
    PyObject *value = PyObject_GetAttr(obj, names[which]);

    if (value == NULL) {
        PyErr_Clear();
    }
    return value;
}

/* obj's attribute `which` met, then dropped (one that raises: not met). */
static int
meet_attr(struct walk *w, PyObject *obj, enum name which)
{
    PyObject *value = get(obj, which);
    int ok = value != NULL && meet(w, value);

    Py_XDECREF(value);
    return ok;
}

static int
is_type(PyObject *obj, enum kind kind)
{
    return (PyObject *)Py_TYPE(obj) == PyTuple_GetItem(kinds, kind);
}

static int
is_value(PyObject *obj)
{
    return PySet_Contains(value_types, (PyObject *)Py_TYPE(obj)) == 1;
}

static int
is_descriptor(PyObject *obj)
{
    return PySequence_Contains(descriptors, (PyObject *)Py_TYPE(obj)) == 1;
}

/* _resend.immutable */
static int
immutable(PyObject *obj)
{
    Py_ssize_t i;

    if (is_value(obj)) {
        return 1;
    }
    if (PyTuple_CheckExact(obj)) {
        for (i = 0; i < PyTuple_Size(obj); i++) {
            if (!immutable(PyTuple_GetItem(obj, i))) {
                return 0;
            }
        }
        return 1;
    }
    if (PyFrozenSet_CheckExact(obj)) {
        PyObject *it = PyObject_GetIter(obj), *item;
        int ok = it != NULL;

        while (ok && (item = PyIter_Next(it)) != NULL) {
            ok = immutable(item);
            Py_DECREF(item);
        }
        Py_XDECREF(it);
        PyErr_Clear();
        return ok;
    }
    return 0;
}

/* _fallback._by_reference, where a record answers: 1, or 0 (Python asks
 * the policy). */
static int
by_reference(PyObject *definition)
{
    if (PySet_Contains(own, definition) == 1) {
        return 1;
    }
    PyErr_Clear();
    if (PyType_Check(definition)
        && !(PyType_GetFlags((PyTypeObject *)definition) & HEAPTYPE)) {
        return 1;
    }
    if (cpmp_by_reference(definition) == 1) {
        return 1;
    }
    PyErr_Clear();
    return 0;
}

/* _fallback._function_item met: the function's resend entry, or
 * _BY_REFERENCE. */
static int
meet_function(struct walk *w, PyObject *func)
{
    PyObject *reduce;
    int ok;

    reduce = cpmp_cached_reduce(holdable, func);
    if (reduce == NULL && !PyErr_Occurred()) {
        reduce = cpmp_cached_reduce(NULL, func);
    }
    if (reduce == NULL) {
        PyErr_Clear();
        return by_reference(func) && meet(w, by_reference_mark);
    }
    ok = meet(w, reduce);
    Py_DECREF(reduce);
    return ok;
}

static int stable(struct walk *w, PyObject *item);

/* One (key, item) pair of _fallback._stable_items. */
static int
stable_item(struct walk *w, PyObject *key, PyObject *item)
{
    if (!meet(w, key)) {
        return 0;
    }
    if (is_value(item)) {
        return meet(w, item);
    }
    if (is_type(item, k_function)) {
        return meet(w, item) && meet_function(w, item);
    }
    if (is_descriptor(item)) {
        return meet(w, (PyObject *)Py_TYPE(item)) && meet_attr(w, item, n_objclass)
               && meet_attr(w, item, n_name);
    }
    return meet(w, item) && stable(w, item);
}

/* _fallback._stable_items over a list of (key, item) pairs, or of items
 * (keyed 0: their keys met as None). */
static int
stable_items(struct walk *w, PyObject *pairs, int keyed)
{
    Py_ssize_t i;
    int ok = meet(w, open_mark);

    for (i = 0; ok && i < PyList_Size(pairs); i++) {
        PyObject *item = PyList_GetItem(pairs, i);

        ok = keyed ? stable_item(w, PyTuple_GetItem(item, 0), PyTuple_GetItem(item, 1))
                   : stable_item(w, Py_None, item);
    }
    return ok && meet(w, close_mark);
}

/* The same over a class's dict, through its mappingproxy: its keys, and
 * the item of each (making the list of pairs costs twice as much). */
static int
stable_dict(struct walk *w, PyObject *proxy)
{
    PyObject *keys = PyObject_GetIter(proxy), *key, *item;
    int ok = keys != NULL && meet(w, open_mark);

    while (ok && (key = PyIter_Next(keys)) != NULL) {
        item = PyObject_GetItem(proxy, key);
        ok = item != NULL && stable_item(w, key, item);
        Py_XDECREF(item);
        Py_DECREF(key);
    }
    Py_XDECREF(keys);
    if (PyErr_Occurred()) { /* changed while read: the Python path decides */
        PyErr_Clear();
        return 0;
    }
    return ok && meet(w, close_mark);
}

static int
stable_accessors(struct walk *w, PyObject *prop)
{
    static const enum name parts[] = {n_fget, n_fset, n_fdel};
    PyObject *f[3];
    int i, ok = 1;

    for (i = 0; i < 3; i++) {
        f[i] = get(prop, parts[i]);
        if (f[i] == NULL) {
            while (i-- > 0) {
                Py_DECREF(f[i]);
            }
            return 0;
        }
        ok = ok && meet(w, f[i]);
    }
    for (i = 0; i < 3; i++) {
        ok = ok && (f[i] == Py_None || stable(w, f[i]));
        Py_DECREF(f[i]);
    }
    return ok;
}

/* _fallback._stable, from its property test on: what a static or class
 * method wraps goes through it too. */
static int
stable_rest(struct walk *w, PyObject *item)
{
    PyObject *inner;
    int ok;

    if (is_type(item, k_property)) {
        return stable_accessors(w, item);
    }
    if (is_type(item, k_function)) {
        return meet_function(w, item);
    }
    if (PyDict_CheckExact(item) || PyList_CheckExact(item)) {
        if (w->at > MAX_ITEMS) {
            return 0;
        }
        PyObject *pairs = PyDict_CheckExact(item) ? PyDict_Items(item) : PySequence_List(item);

        if (pairs == NULL) {
            PyErr_Clear();
            return 0;
        }
        ok = stable_items(w, pairs, PyDict_CheckExact(item));
        Py_DECREF(pairs);
        return ok;
    }
    if (PyModule_CheckExact(item)) {
        inner = get(item, n_name);
        ok = inner != NULL && PyDict_GetItemWithError(PyImport_GetModuleDict(), inner) == item;
        PyErr_Clear();
        Py_XDECREF(inner);
        return ok;
    }
    return PyType_Check(item) && by_reference(item) && meet(w, by_reference_mark);
}

/* _fallback._stable */
static int
stable(struct walk *w, PyObject *item)
{
    PyObject *inner;
    int ok;

    if (immutable(item) || is_descriptor(item)) {
        return 1;
    }
    if (is_type(item, k_builtin)) { /* len, or a method of a mutable table */
        inner = get(item, n_self);
        ok = inner != NULL && (inner == Py_None || stable(w, inner));
        Py_XDECREF(inner);
        return ok;
    }
    if (is_type(item, k_static) || is_type(item, k_classmethod)) {
        inner = get(item, n_func);
        ok = inner != NULL && meet(w, inner) && stable_rest(w, inner);
        Py_XDECREF(inner);
        return ok;
    }
    return stable_rest(w, item);
}

/* _fallback._class_items */
static int
class_items(struct walk *w, PyObject *cls)
{
    PyObject *bases, *proxy;
    Py_ssize_t i;
    int ok;

    for (i = 0; i < w->nseen; i++) {
        if (w->seen[i] == cls) {
            return 1;
        }
    }
    if (w->nseen > 0 && by_reference(cls)) {
        return meet(w, cls);
    }
    if (w->nseen == MAX_SEEN) {
        return 0;
    }
    w->seen[w->nseen++] = cls;
    bases = get(cls, n_bases);
    if (bases == NULL) {
        return 0;
    }
    /* The name, qualified name and bases live in the type, not its dict. */
    ok = PyTuple_CheckExact(bases) && meet(w, cls) && meet(w, (PyObject *)Py_TYPE(cls))
         && meet(w, bases) && meet_attr(w, cls, n_name) && meet_attr(w, cls, n_qualname);
    for (i = -1; ok && i < PyTuple_Size(bases); i++) {
        PyObject *base = i < 0 ? (PyObject *)Py_TYPE(cls) : PyTuple_GetItem(bases, i);

        if (!PyType_Check(base)) {
            ok = 0;
        } else if (!(PyType_GetFlags((PyTypeObject *)base) & HEAPTYPE)) {
            ok = meet(w, base); /* a C type (type, object) */
        } else {
            ok = class_items(w, base);
        }
    }
    Py_DECREF(bases);
    if (!ok || (proxy = get(cls, n_dict)) == NULL) {
        return 0;
    }
    ok = stable_dict(w, proxy);
    Py_DECREF(proxy);
    return ok;
}

/* 1 when cls's snapshot is, object for object, the one whose ids `ids`
 * holds (bytes: the pointers, packed), else 0 (also where the walk cannot
 * tell, and before cpmp_snapshot_set). */
int
cpmp_snapshot_is(PyObject *cls, PyObject *ids)
{
    struct walk w = {NULL, 0, 0, {NULL}, 0};

    if (kinds == NULL || !PyBytes_Check(ids) || PyBytes_Size(ids) % sizeof(void *) != 0) {
        return 0;
    }
    w.ids = (void *const *)(void *)PyBytes_AsString(ids);
    w.n = PyBytes_Size(ids) / (Py_ssize_t)sizeof(void *);
    return class_items(&w, cls) && w.at == w.n;
}

int
cpmp_snapshot_set(PyObject *marks, PyObject *d, PyObject *v, PyObject *k, PyObject *h,
                  PyObject *o)
{
    int i;

    if (PyTuple_Size(marks) != 3 || PyTuple_Size(k) != k_count) {
        PyErr_SetString(PyExc_ValueError, "set_held: 3 marks and 5 kinds");
        return -1;
    }
    for (i = 0; i < n_count; i++) {
        if (names[i] == NULL && (names[i] = PyUnicode_InternFromString(name_text[i])) == NULL) {
            return -1;
        }
    }
    cpmp_replace(&open_mark, PyTuple_GetItem(marks, 0));
    cpmp_replace(&close_mark, PyTuple_GetItem(marks, 1));
    cpmp_replace(&by_reference_mark, PyTuple_GetItem(marks, 2));
    cpmp_replace(&descriptors, d);
    cpmp_replace(&value_types, v);
    cpmp_replace(&holdable, h);
    cpmp_replace(&own, o);
    cpmp_replace(&kinds, k); /* last: the walk runs once it is set */
    return 0;
}
