/* The globals of a function cpmp received by value that must see some of
 * the sender's values (cpmp.core._globals says when and how they are made).
 *
 * Namespace: a dict of those values (and the module's __name__ and the
 * like, for C code that reads globals through the dict API, as warnings
 * does), whose misses go to its "__builtins__" item, a Builtins: a dict
 * holding a copy of the builtins (for C code that reads them through the
 * dict API: __import__, iter) and, under the key MARK, the module's dict,
 * whose lookups read that module live, then the module's builtins live.
 *
 * Where globals are not exactly a dict, the interpreter asks their
 * mp_subscript for every global a function reads; where builtins are not,
 * it asks theirs for every name a class body or eval misses in the globals.
 * So every code object nested in the function -- comprehensions, lambdas,
 * class bodies, eval -- sees the same names, a task that patches builtins
 * sees its patch, and no lookup costs a Python call. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *str_builtins, *str_mark, *builtins_module;
static PyTypeObject *builtins_type, *namespace_type;

static PyObject *
found(PyObject *value, PyObject *key)
{
    if (value != NULL) {
        Py_INCREF(value);
    } else if (!PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    return value;
}

/* The module's builtins, live: a borrowed reference, or NULL with an
 * error set. */
static PyObject *
real_builtins(PyObject *live)
{
    PyObject *b = PyDict_GetItemWithError(live, str_builtins);

    if (b == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        b = builtins_module;
    }
    return PyModule_Check(b) ? PyModule_GetDict(b) : b;
}

/* Builtins[key] where `live` is the module's dict and b its builtins:
 * the module's binding, live, then the builtins' -- for code running on
 * a Namespace (a class body, eval): its globals are the Namespace, and
 * the names it misses there are the module's.  Any other code (eval or
 * exec given a dict of their own, which they give these builtins) sees
 * only the builtins, as it would without cpmp. */
static PyObject *
live_lookup(PyObject *self, PyObject *live, PyObject *key)
{
    PyObject *globals = PyEval_GetGlobals(), *value, *b;

    if (globals != NULL && Py_TYPE(globals) == namespace_type) {
        value = PyDict_GetItemWithError(live, key);
        if (value != NULL || PyErr_Occurred()) {
            return found(value, key);
        }
    }
    b = real_builtins(live);
    if (b == NULL) {
        return NULL;
    }
    if (b == self || !PyDict_Check(b)) {
        return b == self ? found(PyDict_GetItemWithError(self, key), key) : PyObject_GetItem(b, key);
    }
    return found(PyDict_GetItemWithError(b, key), key);
}

/* Builtins[key]. */
static PyObject *
builtins_subscript(PyObject *self, PyObject *key)
{
    PyObject *live = PyDict_GetItemWithError(self, str_mark);

    if (live == NULL || !PyDict_Check(live)) {
        return PyErr_Occurred() ? NULL : found(PyDict_GetItemWithError(self, key), key);
    }
    return live_lookup(self, live, key);
}

/* Namespace[key]: its own item, else its builtins'. */
static PyObject *
namespace_subscript(PyObject *self, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(self, key), *b;

    if (value != NULL || PyErr_Occurred()) {
        return found(value, key);
    }
    b = PyDict_GetItemWithError(self, str_builtins);
    if (b == NULL) {
        return found(NULL, key);
    }
    if (Py_TYPE(b) == builtins_type) {
        PyObject *live = PyDict_GetItemWithError(b, str_mark);

        if (live != NULL && PyDict_Check(live)) {
            value = PyDict_GetItemWithError(live, key);
            if (value != NULL || PyErr_Occurred()) {
                return found(value, key);
            }
            b = real_builtins(live);
            if (b == NULL || !PyDict_Check(b)) {
                return b == NULL ? NULL : PyObject_GetItem(b, key);
            }
            return found(PyDict_GetItemWithError(b, key), key);
        }
        return builtins_subscript(b, key);
    }
    if (PyModule_Check(b)) {
        return found(PyDict_GetItemWithError(PyModule_GetDict(b), key), key);
    }
    return PyObject_GetItem(b, key);
}

/* The module dict a Namespace reads live (borrowed), or NULL: none, or an
 * error set. */
static PyObject *
namespace_live(PyObject *self)
{
    PyObject *b = PyDict_GetItemWithError(self, str_builtins), *live;

    if (b == NULL || Py_TYPE(b) != builtins_type) {
        return NULL;
    }
    live = PyDict_GetItemWithError(b, str_mark);
    return live != NULL && PyDict_Check(live) ? live : NULL;
}

/* key in Namespace: its own item, or the module's (not the builtins':
 * they are not in a module's globals either) -- what cloudpickle asks of
 * a function's globals before it reads a name. */
static int
namespace_contains(PyObject *self, PyObject *key)
{
    int has = PyDict_Contains(self, key);
    PyObject *live;

    if (has != 0) {
        return has;
    }
    live = namespace_live(self);
    if (live == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return PyDict_Contains(live, key);
}

/* Namespace.get(key, default=None): as `in` finds it. */
static PyObject *
namespace_get(PyObject *self, PyObject *args)
{
    PyObject *key, *fallback = Py_None, *value, *live;

    if (!PyArg_UnpackTuple(args, "get", 1, 2, &key, &fallback)) {
        return NULL;
    }
    value = PyDict_GetItemWithError(self, key);
    if (value == NULL && !PyErr_Occurred() && (live = namespace_live(self)) != NULL) {
        value = PyDict_GetItemWithError(live, key);
    }
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        value = fallback;
    }
    Py_INCREF(value);
    return value;
}

static PyMethodDef namespace_methods[] = {
    {"get", namespace_get, METH_VARARGS,
     "get(key, default=None): its own item, else the module's, else default."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot builtins_slots[] = {
    {Py_tp_doc, (void *)"The builtins of a cpmp namespace: a copy for the dict API; lookups "
                        "read the module in self[MARK] live, then its builtins."},
    {Py_mp_subscript, (void *)builtins_subscript},
    {0, NULL},
};

static PyType_Slot namespace_slots[] = {
    {Py_tp_doc, (void *)"The globals of a function cpmp received: the sender's values, then "
                        "self['__builtins__'] (a Builtins)."},
    {Py_mp_subscript, (void *)namespace_subscript},
    {Py_sq_contains, (void *)namespace_contains},
    {Py_tp_methods, namespace_methods},
    {0, NULL},
};

static PyType_Spec builtins_spec = {
    "cpmp.core._speedups.Builtins", 0, 0, Py_TPFLAGS_DEFAULT, builtins_slots,
};

static PyType_Spec namespace_spec = {
    "cpmp.core._speedups.Namespace", 0, 0, Py_TPFLAGS_DEFAULT, namespace_slots,
};

static int
add_type(PyObject *module, PyType_Spec *spec, const char *name, PyObject **type)
{
    PyObject *bases = PyTuple_Pack(1, (PyObject *)&PyDict_Type);

    *type = bases == NULL ? NULL : PyType_FromSpecWithBases(spec, bases);
    Py_XDECREF(bases);
    if (*type == NULL) {
        return -1;
    }
    Py_INCREF(*type); /* one for the module, one kept here */
    if (PyModule_AddObject(module, name, *type) < 0) {
        Py_DECREF(*type);
        return -1;
    }
    return 0;
}

/* The key a Builtins holds its module's dict under (cpmp.core._wire's
 * BUILTINS_MARK: no name a program binds starts with NUL). */
#define MARK "\0cpmp"

int
cpmp_namespace_types(PyObject *module)
{
    PyObject *namespace, *type;

    str_builtins = PyUnicode_InternFromString("__builtins__");
    str_mark = PyUnicode_FromStringAndSize(MARK, sizeof(MARK) - 1);
    if (str_mark != NULL) {
        PyUnicode_InternInPlace(&str_mark);
    }
    builtins_module = PyImport_ImportModule("builtins");
    if (str_builtins == NULL || str_mark == NULL || builtins_module == NULL
        || add_type(module, &builtins_spec, "Builtins", &type) < 0) {
        return -1;
    }
    builtins_type = (PyTypeObject *)type;
    if (add_type(module, &namespace_spec, "Namespace", &namespace) < 0) {
        return -1;
    }
    namespace_type = (PyTypeObject *)namespace; /* the module holds it too */
    Py_INCREF(str_mark);
    if (PyModule_AddObject(module, "MARK", str_mark) < 0) {
        Py_DECREF(str_mark);
        return -1;
    }
    return 0;
}
