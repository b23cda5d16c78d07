/* The per-object decision of cpmp's pickler, in C.
 *
 * The C pickler calls reducer_override for every object that is not an int,
 * float, str, bytes, bool or None.  A Python reducer_override costs a Python
 * call for every dict, list, tuple and instance (cloudpickle's Pickler is
 * 2.9x slower than the standard one on plain instances for that reason).
 * Here the common answers are C: "not a function or class: as always",
 * "a function or class the receiver can look up by name: as always", and
 * "the same function as last time, unchanged: the same bytes".  Only what
 * must be pickled by value afresh reaches Python (cpmp._reduce).
 *
 * The decision mirrors cpmp._reduce._needs_value, its pure-Python twin for
 * interpreters without this module.  Built against the stable ABI (3.8+),
 * so one file serves every CPython the preload library supports. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *function_type;   /* types.FunctionType */
static PyObject *special_types;   /* NoneType, NotImplementedType, ellipsis */
static PyObject *reduce_function; /* cpmp._reduce.reduce_function */
static PyObject *reduce_class;    /* cpmp._reduce.reduce_class */
static PyObject *main_names;      /* cpmp._reduce.main_names */
static PyObject *by_value_module; /* cpmp._reduce.by_value_module */
static PyObject *main_cache;      /* {main module: main_names(module)} */
static PyObject *sent;            /* cpmp._reduce._sent: {id(func): entry} */
static PyObject *empty_cell;      /* cpmp._reduce.EMPTY_CELL */
static PyObject *by_value_names;  /* cpmp._reduce.BY_VALUE_NAMES (CPMP_BY_VALUE) */
static PyObject *str_qualname, *str_module, *str_dot, *str_by_value;

/* Attributes of a function that a cached entry pins, in entry order. */
static const char *const pinned_attrs[] = {
    "__code__", "__name__", "__qualname__", "__module__", "__doc__", "__defaults__",
};
#define N_PINNED ((Py_ssize_t)(sizeof(pinned_attrs) / sizeof(pinned_attrs[0])))
/* The rest of an entry (see cpmp._reduce._SentFunction). */
enum {
    E_REF = 0,
    E_PINNED = 1,
    E_KWDEFAULTS = E_PINNED + N_PINNED,
    E_ANNOTATIONS,
    E_CELLS,
    E_SHIPPED,
    E_REDUCE,
    E_SIZE
};

/* main_names(module), computed once per main module: the script does not
 * change under a running program. */
static PyObject *
cached_main_names(PyObject *module)
{
    PyObject *names = PyDict_GetItemWithError(main_cache, module);

    if (names != NULL || PyErr_Occurred()) {
        Py_XINCREF(names);
        return names;
    }
    names = PyObject_CallFunctionObjArgs(main_names, module, NULL);
    if (names != NULL && PyDict_SetItem(main_cache, module, names) < 0) {
        Py_CLEAR(names);
    }
    return names;
}

/* Whether the module is to go by value (CPMP_BY_VALUE, --by-value,
 * cpmp.register_by_value, cloudpickle.register_pickle_by_value).  Only
 * when something is registered does it ask Python which. */
static int
registered_by_value(PyObject *modules, PyObject *modname)
{
    PyObject *cp = PyDict_GetItemString(modules, "cloudpickle.cloudpickle");
    PyObject *registry, *answer;
    int result = by_value_names != NULL && PyObject_IsTrue(by_value_names);

    if (result == 0 && cp != NULL) {
        registry = PyObject_GetAttr(cp, str_by_value);
        if (registry == NULL) {
            PyErr_Clear();
            return 0;
        }
        result = PyObject_IsTrue(registry);
        Py_DECREF(registry);
    }
    if (result <= 0) {
        return result;
    }
    answer = PyObject_CallFunctionObjArgs(by_value_module, modname, NULL);
    if (answer == NULL) {
        return -1;
    }
    result = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return result;
}

/* 1: obj must go by value, 0: the stdlib sends it by reference, -1: error. */
static int
needs_value(PyObject *obj, int is_function)
{
    PyObject *qualname = NULL, *modname = NULL, *parts = NULL, *found = NULL, *names;
    PyObject *modules, *module;
    Py_ssize_t i, n;
    int result = 0;

    qualname = PyObject_GetAttr(obj, str_qualname);
    if (qualname == NULL || !PyUnicode_Check(qualname)) {
        PyErr_Clear();
        goto done; /* the stdlib decides, as always */
    }
    n = PyUnicode_GetLength(qualname);
    if (is_function && PyUnicode_FindChar(qualname, '<', 0, n, 1) >= 0) {
        result = 1; /* <lambda>, <locals> */
        goto done;
    }
    modname = PyObject_GetAttr(obj, str_module);
    if (modname == NULL || !PyUnicode_Check(modname)) {
        PyErr_Clear();
        goto done;
    }
    modules = PyImport_GetModuleDict();
    /* A by-value module goes by value even where it is not imported (a
     * worker returning an object of a class it received by value). */
    result = registered_by_value(modules, modname);
    if (result != 0) {
        goto done;
    }
    module = PyDict_GetItemWithError(modules, modname);
    if (module == NULL) {
        result = PyErr_Occurred() ? -1 : 0; /* the pickler imports it */
        goto done;
    }
    /* Look the object up by its qualified name, as pickle does. */
    parts = PyUnicode_Split(qualname, str_dot, -1);
    if (parts == NULL) {
        result = -1;
        goto done;
    }
    found = module;
    Py_INCREF(found);
    for (i = 0; i < PyList_Size(parts); i++) {
        PyObject *next = PyObject_GetAttr(found, PyList_GetItem(parts, i));

        Py_DECREF(found);
        found = next;
        if (found == NULL) {
            PyErr_Clear();
            result = 1;
            goto done;
        }
    }
    if (found != obj) {
        result = 1;
        goto done;
    }
    if (PyUnicode_CompareWithASCIIString(modname, "__main__") == 0
        || PyUnicode_CompareWithASCIIString(modname, "__mp_main__") == 0) {
        /* False: spawn children cannot re-create this main module; None:
         * its source is unknown, trust it; else the names a child's
         * re-import binds. */
        names = cached_main_names(module);
        if (names == NULL) {
            result = -1;
            goto done;
        }
        if (names == Py_False) {
            result = 1;
        } else if (names != Py_None) {
            int present = PySequence_Contains(names, PyList_GetItem(parts, 0));

            result = present < 0 ? -1 : !present;
        }
        Py_DECREF(names);
    }
done:
    Py_XDECREF(found);
    Py_XDECREF(parts);
    Py_XDECREF(modname);
    Py_XDECREF(qualname);
    return result;
}

/* Whether attribute `name` of func equals `want` (None: absent or empty). */
static int
attr_equals(PyObject *func, const char *name, PyObject *want)
{
    PyObject *have = PyObject_GetAttrString(func, name);
    int result;

    if (have == NULL) {
        return -1;
    }
    if (want == Py_None) {
        result = have == Py_None || (PyDict_Check(have) && PyDict_Size(have) == 0);
    } else {
        result = PyObject_RichCompareBool(have, want, Py_EQ);
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

/* 1 when every shipped global still is the very object recorded. */
static int
shipped_match(PyObject *func, PyObject *shipped)
{
    PyObject *globals;
    Py_ssize_t i;
    int result = 1;

    if (PyTuple_Size(shipped) == 0) {
        return 1;
    }
    globals = PyObject_GetAttrString(func, "__globals__");
    if (globals == NULL) {
        return -1;
    }
    for (i = 0; result == 1 && i < PyTuple_Size(shipped); i++) {
        PyObject *pair = PyTuple_GetItem(shipped, i);
        PyObject *value = PyDict_GetItemWithError(globals, PyTuple_GetItem(pair, 0));

        if (value == NULL && PyErr_Occurred()) {
            result = -1;
        } else {
            result = value == PyTuple_GetItem(pair, 1);
        }
    }
    Py_DECREF(globals);
    return result;
}

/* The reduce tuple cpmp._reduce cached for func, when func would still
 * pickle to the same bytes (compared by identity, never by guessing): a
 * new reference, or NULL with no error set when there is none. */
static PyObject *
cached_reduce(PyObject *func)
{
    PyObject *key, *entry, *dict, *have;
    Py_ssize_t i;
    int ok;

    if (sent == NULL) {
        return NULL;
    }
    key = PyLong_FromVoidPtr(func);
    if (key == NULL) {
        return NULL;
    }
    entry = PyDict_GetItemWithError(sent, key);
    Py_DECREF(key);
    if (entry == NULL || !PyTuple_Check(entry) || PyTuple_Size(entry) != E_SIZE
        || PyWeakref_GetObject(PyTuple_GetItem(entry, E_REF)) != func) {
        return NULL;
    }
    for (i = 0; i < N_PINNED; i++) {
        have = PyObject_GetAttrString(func, pinned_attrs[i]);
        if (have == NULL) {
            return NULL;
        }
        Py_DECREF(have); /* still referenced by func */
        if (have != PyTuple_GetItem(entry, E_PINNED + i)) {
            return NULL;
        }
    }
    dict = PyObject_GetAttrString(func, "__dict__");
    if (dict == NULL) {
        return NULL;
    }
    ok = PyDict_Check(dict) && PyDict_Size(dict) == 0;
    Py_DECREF(dict);
    if (ok == 1) {
        ok = attr_equals(func, "__kwdefaults__", PyTuple_GetItem(entry, E_KWDEFAULTS));
    }
    if (ok == 1) {
        ok = attr_equals(func, "__annotations__", PyTuple_GetItem(entry, E_ANNOTATIONS));
    }
    if (ok == 1) {
        ok = cells_match(func, PyTuple_GetItem(entry, E_CELLS));
    }
    if (ok == 1) {
        ok = shipped_match(func, PyTuple_GetItem(entry, E_SHIPPED));
    }
    if (ok != 1) {
        return NULL; /* with the error set when ok < 0 */
    }
    have = PyTuple_GetItem(entry, E_REDUCE);
    Py_INCREF(have);
    return have;
}

static PyObject *
speedups_reducer_override(PyObject *module, PyObject *obj)
{
    PyObject *reduce = NULL;
    int by_value;

    (void)module;
    if (reduce_function == NULL) {
        /* set_hooks() not called yet: nothing is patched. */
    } else if ((PyObject *)Py_TYPE(obj) == function_type) {
        reduce = reduce_function;
    } else if (PyType_Check(obj)) {
        int special = PySequence_Contains(special_types, obj);

        if (special < 0) {
            return NULL;
        }
        if (!special) {
            reduce = reduce_class;
        }
    }
    if (reduce == NULL) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    if (reduce == reduce_function) {
        /* The same function sent again: no Python code at all. */
        PyObject *cached = cached_reduce(obj);

        if (cached != NULL || PyErr_Occurred()) {
            return cached;
        }
    }
    by_value = needs_value(obj, reduce == reduce_function);
    if (by_value < 0) {
        return NULL;
    }
    if (!by_value) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    return PyObject_CallFunctionObjArgs(reduce, obj, NULL);
}

static PyObject *
speedups_needs_value(PyObject *module, PyObject *args)
{
    PyObject *obj;
    int is_function, result;

    (void)module;
    if (!PyArg_ParseTuple(args, "Op:needs_value", &obj, &is_function)) {
        return NULL;
    }
    result = needs_value(obj, is_function);
    return result < 0 ? NULL : PyBool_FromLong(result);
}

static void
replace(PyObject **slot, PyObject *value)
{
    Py_INCREF(value);
    Py_XDECREF(*slot);
    *slot = value;
}

static PyObject *
speedups_set_hooks(PyObject *module, PyObject *args)
{
    PyObject *rf, *rc, *mn, *bv, *cache, *empty, *names;

    (void)module;
    if (!PyArg_ParseTuple(args, "OOOOO!OO:set_hooks", &rf, &rc, &mn, &bv,
                          &PyDict_Type, &cache, &empty, &names)) {
        return NULL;
    }
    replace(&by_value_names, names);
    replace(&reduce_function, rf);
    replace(&reduce_class, rc);
    replace(&main_names, mn);
    replace(&by_value_module, bv);
    replace(&sent, cache);
    replace(&empty_cell, empty);
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"reducer_override", speedups_reducer_override, METH_O,
     "reducer_override(obj): a reduce tuple for a function or class that must "
     "go by value, else NotImplemented."},
    {"needs_value", speedups_needs_value, METH_VARARGS,
     "needs_value(obj, is_function): whether obj must go by value."},
    {"set_hooks", speedups_set_hooks, METH_VARARGS,
     "set_hooks(reduce_function, reduce_class, main_names, by_value_module, "
     "sent, EMPTY_CELL, BY_VALUE_NAMES)"},
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
    main_cache = PyDict_New();
    str_qualname = PyUnicode_InternFromString("__qualname__");
    str_module = PyUnicode_InternFromString("__module__");
    str_dot = PyUnicode_InternFromString(".");
    str_by_value = PyUnicode_InternFromString("_PICKLE_BY_VALUE_MODULES");
    if (function_type == NULL || special_types == NULL || main_cache == NULL
        || str_qualname == NULL || str_module == NULL || str_dot == NULL
        || str_by_value == NULL) {
        return NULL;
    }
    return PyModule_Create(&speedups_module);
}
