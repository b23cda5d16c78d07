/* The C fast path of cpmp's pickler: a cache in front of its policy.
 *
 * The C pickler calls reducer_override for every object that is not an int,
 * float, str, bytes, bool or None.  A Python reducer_override costs a Python
 * call for every dict, list, tuple and instance (cloudpickle's Pickler is
 * 2.9x slower than the standard one on plain instances for that reason).
 * Here the common answers are C: "not a function or class: as always", and
 * "the same function as last time, unchanged: the same bytes" (an entry of
 * cpmp._resend.sent, checked in _resend_cache.c).  Every decision is Python's (cpmp._send, which asks
 * cpmp._policy).  The entry layout is cpmp._resend.ENTRY, given to
 * set_hooks by name: a name missing there makes set_hooks fail, and the
 * package runs without this module (cpmp doctor says why).  Also the
 * types of a received function's globals (_namespace.c).  Stable ABI
 * (3.8+): one file serves every CPython the preload library supports. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *function_type;   /* types.FunctionType */
static Py_ssize_t hits;           /* sends the resend cache answered */
static PyObject *special_types;   /* NoneType, NotImplementedType, ellipsis */
static PyObject *reduce_function; /* cpmp._send.reduce_function */
static PyObject *reduce_class;    /* cpmp._send.reduce_class */
static PyObject *reduce_module;   /* cpmp._reduce.reduce_module_subclass */
static PyObject *own_functions;   /* cpmp._send.OWN: functions and C types */
/* set_reducers(): cpmp._reduce.REDUCERS {type: reducer}, copyreg's
 * dispatch_table, ForkingPickler._extra_reducers and multiprocessing's
 * reducer for bound methods, all read live. */
static PyObject *reducers, *copyreg_table, *registry, *method_reducer;

/* Whether cpmp's reducer for type goes where the pickler's dispatch table
 * would have it (cpmp._reduce.takes_over): a reducer the program registered
 * itself, with multiprocessing or copyreg, wins; multiprocessing's own for
 * bound methods does not.  1, 0, or -1 with an error set. */
static int
takes_over(PyObject *type)
{
    PyObject *registered = PyDict_GetItemWithError(registry, type);

    if (registered != NULL) {
        return registered == method_reducer;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    registered = PyDict_GetItemWithError(copyreg_table, type);
    if (registered == NULL && PyErr_Occurred()) {
        return -1;
    }
    return registered == NULL;
}

/* cpmp's reducer for obj's exact type, called, when it takes over; else
 * NotImplemented (a new reference), or NULL with an error set. */
static PyObject *
reduce_by_type(PyObject *obj)
{
    PyObject *reducer = reducers == NULL ? NULL
                        : PyDict_GetItemWithError(reducers, (PyObject *)Py_TYPE(obj));
    int mine;

    if (reducer == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    mine = takes_over((PyObject *)Py_TYPE(obj));
    if (mine < 0) {
        return NULL;
    }
    if (!mine) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    return PyObject_CallFunctionObjArgs(reducer, obj, NULL);
}

/* A class: NotImplemented (the standard pickler's way) for NoneType and its
 * kin, a class whose metaclass has a reducer the program registered, a C
 * type found by name and a class the policy sent by reference with nothing
 * changed since; else what the policy says. */
static PyObject *
reduce_type(PyObject *cls)
{
    int by_reference = PySequence_Contains(special_types, cls);

    if (by_reference == 0 && reducers != NULL && Py_TYPE(cls) != &PyType_Type) {
        /* A reducer the program registered for its metaclass wins. */
        int mine = takes_over((PyObject *)Py_TYPE(cls));

        if (mine < 0) {
            return NULL;
        }
        by_reference = !mine;
    }
    if (by_reference == 0 && own_functions != NULL) {
        by_reference = PySet_Contains(own_functions, cls);
        if (by_reference > 0 && !cpmp_registry_empty()) {
            by_reference = 0;
        }
    }
    if (by_reference == 0) {
        by_reference = cpmp_by_reference(cls);
    }
    if (by_reference < 0) {
        return NULL;
    }
    if (!by_reference) {
        /* A main-module class a forked receiver holds, sent again. */
        PyObject *held = cpmp_held_class(cls);

        if (held != NULL) {
            hits++;
            return held;
        }
        return PyObject_CallFunctionObjArgs(reduce_class, cls, NULL);
    }
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

static PyObject *
speedups_reducer_override(PyObject *module, PyObject *obj)
{
    (void)module;
    if (reduce_function == NULL) {
        /* set_hooks() not called yet: nothing is patched. */
    } else if ((PyObject *)Py_TYPE(obj) == function_type) {
        /* One of the functions cpmp's payloads name: by reference. */
        int own = own_functions == NULL ? 0 : PySet_Contains(own_functions, obj);
        PyObject *cached;

        if (own < 0) {
            return NULL;
        }
        if (own && cpmp_registry_empty()) {
            Py_INCREF(Py_NotImplemented);
            return Py_NotImplemented;
        }
        /* A function the policy sent by reference, nothing changed since. */
        own = cpmp_by_reference(obj);
        if (own != 0) {
            if (own < 0) {
                return NULL;
            }
            Py_INCREF(Py_NotImplemented);
            return Py_NotImplemented;
        }
        /* The same function sent again: no Python code at all. */
        cached = cpmp_cached_reduce(NULL, obj);

        if (cached != NULL) {
            hits++;
        }
        if (cached != NULL || PyErr_Occurred()) {
            return cached;
        }
        return PyObject_CallFunctionObjArgs(reduce_function, obj, NULL);
    } else if (PyType_Check(obj)) {
        return reduce_type(obj);
    } else if (obj == cpmp_loader) {
        /* _load.c's load_function, which payloads name: by reference, as
         * the standard pickler sends a builtin, without its __reduce_ex__
         * call (a string is the global's name to the pickler). */
        Py_INCREF(cpmp_loader_name);
        return cpmp_loader_name;
    } else if (PyModule_Check(obj) && !PyModule_CheckExact(obj)) {
        /* A types.ModuleType subclass made at any time (py's ApiModule). */
        return PyObject_CallFunctionObjArgs(reduce_module, obj, NULL);
    } else {
        return reduce_by_type(obj);
    }
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

void
cpmp_replace(PyObject **slot, PyObject *value)
{
    Py_INCREF(value);
    Py_XDECREF(*slot);
    *slot = value;
}

static PyObject *
speedups_set_hooks(PyObject *module, PyObject *args)
{
    PyObject *rf, *rc, *rm, *cache, *empty, *pinned, *layout;

    (void)module;
    if (!PyArg_ParseTuple(args, "OOOO!OO!O!:set_hooks", &rf, &rc, &rm, &PyDict_Type, &cache,
                          &empty, &PyTuple_Type, &pinned, &PyTuple_Type, &layout)) {
        return NULL;
    }
    if (cpmp_cache_set(cache, empty, pinned, layout) < 0) {
        return NULL;
    }
    cpmp_replace(&reduce_function, rf);
    cpmp_replace(&reduce_class, rc);
    cpmp_replace(&reduce_module, rm);
    Py_RETURN_NONE;
}

/* set_tables(own, by_reference): the set cpmp._send.OWN and the dict
 * cpmp._resend.by_reference, read live from then on. */
static PyObject *
speedups_set_tables(PyObject *module, PyObject *args)
{
    PyObject *own, *by_reference;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!:set_tables", &PySet_Type, &own, &PyDict_Type,
                          &by_reference)) {
        return NULL;
    }
    cpmp_replace(&own_functions, own);
    cpmp_by_reference_set(by_reference);
    Py_RETURN_NONE;
}

/* set_reducers(reducers, copyreg_table, registry, method_reducer): see takes_over. */
static PyObject *
speedups_set_reducers(PyObject *module, PyObject *args)
{
    PyObject *table, *copyreg, *extra, *method;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!O:set_reducers", &PyDict_Type, &table, &PyDict_Type,
                          &copyreg, &PyDict_Type, &extra, &method)) {
        return NULL;
    }
    cpmp_replace(&copyreg_table, copyreg);
    cpmp_replace(&registry, extra);
    cpmp_replace(&method_reducer, method);
    cpmp_replace(&reducers, table); /* last: the others are set when it is */
    Py_RETURN_NONE;
}

static PyObject *
speedups_hits(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromSsize_t(hits);
}

/* lookup(func, *tables): see the method table. */
static PyObject *
speedups_lookup(PyObject *module, PyObject *args)
{
    PyObject *table, *reduce = NULL;
    Py_ssize_t i;

    (void)module;
    for (i = 1; i < PyTuple_Size(args) && reduce == NULL; i++) {
        table = PyTuple_GetItem(args, i);
        if (!PyDict_Check(table)) {
            PyErr_SetString(PyExc_TypeError, "lookup(func, *tables): a table is a dict");
            return NULL;
        }
        reduce = cpmp_cached_reduce(table, PyTuple_GetItem(args, 0));
        if (reduce == NULL && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (PyTuple_Size(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "lookup(func, *tables) takes a function");
        return NULL;
    }
    if (reduce == NULL) {
        Py_RETURN_NONE;
    }
    return reduce;
}

static PyMethodDef speedups_methods[] = {
    {"reducer_override", speedups_reducer_override, METH_O,
     "reducer_override(obj): a reduce tuple for a function or class that must "
     "go by value, else NotImplemented."},
    {"set_hooks", speedups_set_hooks, METH_VARARGS,
     "set_hooks(reduce_function, reduce_class, reduce_module, sent, EMPTY_CELL, PINNED, "
     "ENTRY)"},
    {"fork_pass", cpmp_fork_pass, METH_VARARGS,
     "fork_pass(main_dict, pins, no_weakref, pin_type, callback, token, serial, "
     "small_types, snapshot, deaths) -> serial"},
    {"lookup", speedups_lookup, METH_VARARGS,
     "lookup(func, *tables): the reduce tuple the first of cpmp._resend's tables to hold "
     "one for func holds, while func would still pickle to it, else None (the twin of "
     "_resend.lookup)."},
    {"before_fork", cpmp_before_fork, METH_O,
     "before_fork(held): cpmp._held._before_fork, in C (no Python code runs at a fork)."},
    {"set_tables", speedups_set_tables, METH_VARARGS,
     "set_tables(own, by_reference): cpmp._send.OWN and cpmp._resend.by_reference, read "
     "live: what goes by reference without asking the policy."},
    {"set_reducers", speedups_set_reducers, METH_VARARGS,
     "set_reducers(reducers, copyreg_table, registry, method_reducer): cpmp._reduce.REDUCERS, "
     "applied where the pickler's own table has no reducer the program registered."},
    {"lru_calibrate", cpmp_lru_calibrate, METH_VARARGS,
     "lru_calibrate(wrapper, func, wrapper2, func2): find where an lru_cache wrapper "
     "keeps the function it calls; whether it was found, the same in both."},
    {"lru_callee", cpmp_lru_callee, METH_O,
     "lru_callee(wrapper): the function a calibrated lru_cache wrapper calls, else None."},
    {"set_held", cpmp_set_held, METH_VARARGS,
     "set_held(held_classes, held_globals, (OPEN, CLOSE, BY_REFERENCE), descriptors, "
     "value_types, (staticmethod, classmethod, property, builtin_function, function), "
     "holdable, own): cpmp._fallback.held_classes, answered in C (_held_class.c)."},
    {"snapshot_is", cpmp_snapshot_is_method, METH_VARARGS,
     "snapshot_is(cls, ids): whether cls's snapshot (cpmp._fallback) is, object for "
     "object, the one of those ids."},
    {"make_loader", cpmp_make_loader, METH_VARARGS,
     "make_loader(built, modules, module_globals, FunctionType, CellType, load_function, "
     "module_name): cpmp._receive.load_function answering payloads cpmp._code._built "
     "remembers in C (_load.c), the given one for the others."},
    {"hits", speedups_hits, METH_NOARGS,
     "hits(): how many sends the cache answered in this process."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "cpmp.core._speedups",
    "C fast path of cpmp's pickler (see cpmp._reduce).", -1,
    speedups_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *types = PyImport_ImportModule("types"), *module;

    if (types == NULL) {
        return NULL;
    }
    function_type = PyObject_GetAttrString(types, "FunctionType");
    Py_DECREF(types);
    special_types = Py_BuildValue("(OOO)", (PyObject *)Py_TYPE(Py_None),
                                  (PyObject *)Py_TYPE(Py_NotImplemented),
                                  (PyObject *)Py_TYPE(Py_Ellipsis));
    if (function_type == NULL || special_types == NULL) {
        return NULL;
    }
    module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (cpmp_namespace_types(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
