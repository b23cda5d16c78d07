/* cpmp._receive.load_function's first lines, in C: a payload received
 * before (imap with chunksize=1) whose module and file are still the ones
 * it was built on is made again from what cpmp._code._built remembered of
 * it -- the code, the module's name and file, the cells' values (each
 * immutable, never EMPTY_CELL) -- without running Python.  Everything else
 * is the Python function's, called with the same arguments: the cache is
 * filled there only, and stays empty with the caches off or a mutation
 * planted, so this gives what the Python lines give, line for line:
 *
 *     made = _built.get((code_blob, rest))
 *     if made is not None:
 *         module = _modules.get(made[0])
 *         if module is not None and getattr(module, "__file__", None) is made[2]:
 *             ... FunctionType(made[1], module_globals(module), None, None, cells)
 *
 * The object is a builtin function whose __module__ is cpmp._receive's
 * name, bound there as load_function: payloads name it, and a pickler
 * finds it there as itself. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *built;         /* cpmp._code._built */
static PyObject *modules;       /* the dict _receive looks modules up in */
static PyObject *module_globals; /* cpmp._globals.module_globals */
static PyObject *function_type, *cell_type;
static PyObject *python_load;   /* the Python load_function */
static PyObject *n_file, *n_module, *n_name, *mp_main;
PyObject *cpmp_loader, *cpmp_loader_name;

/* The globals module's own functions use: its __dict__, unless it is a
 * spawned child's re-run script (module_globals finds runpy's dict). */
static PyObject *
globals_of(PyObject *module)
{
    PyObject *d, *name;

    if (!PyModule_Check(module)) {
        return PyObject_CallFunctionObjArgs(module_globals, module, NULL);
    }
    d = PyModule_GetDict(module); /* borrowed */
    name = PyDict_GetItemWithError(d, n_name);
    if (name == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (name != NULL && PyUnicode_Check(name) && PyUnicode_Compare(name, mp_main) == 0) {
        return PyObject_CallFunctionObjArgs(module_globals, module, NULL);
    }
    Py_INCREF(d);
    return d;
}

/* made's function: a new reference, or NULL with an error. */
static PyObject *
rebuild(PyObject *made, PyObject *module)
{
    PyObject *cells = PyTuple_GetItem(made, 3), *closure, *globals, *func;
    Py_ssize_t i, n;

    if (cells == Py_None) {
        closure = Py_None;
        Py_INCREF(closure);
    } else {
        n = PyTuple_Size(cells);
        closure = PyTuple_New(n);
        for (i = 0; closure != NULL && i < n; i++) {
            PyObject *cell = PyObject_CallFunctionObjArgs(cell_type, PyTuple_GetItem(cells, i),
                                                          NULL);
            if (cell == NULL) {
                Py_CLEAR(closure);
            } else {
                PyTuple_SetItem(closure, i, cell);
            }
        }
        if (closure == NULL) {
            return NULL;
        }
    }
    globals = globals_of(module);
    func = globals == NULL ? NULL : PyObject_CallFunctionObjArgs(
        function_type, PyTuple_GetItem(made, 1), globals, Py_None, Py_None, closure, NULL);
    Py_XDECREF(globals);
    Py_DECREF(closure);
    if (func != NULL && PyObject_SetAttr(func, n_module, PyTuple_GetItem(made, 0)) < 0) {
        Py_CLEAR(func);
    }
    return func;
}

/* made's function, where made's module and file are still the ones it was
 * built on: a new reference, NULL with an error, or NULL without one (not
 * the same module or file: the Python lines decide). */
static PyObject *
from_made(PyObject *made)
{
    PyObject *module, *file, *func = NULL;

    if (!PyTuple_Check(made) || PyTuple_Size(made) != 4) {
        PyErr_SetString(PyExc_TypeError, "cpmp: _code._built holds a malformed entry");
        return NULL;
    }
    module = PyDict_GetItemWithError(modules, PyTuple_GetItem(made, 0));
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(module);
    file = PyObject_GetAttr(module, n_file);
    if (file == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        file = Py_None;
        Py_INCREF(file);
    }
    if (file != NULL && file == PyTuple_GetItem(made, 2)) {
        func = rebuild(made, module);
    }
    Py_XDECREF(file);
    Py_DECREF(module);
    return func;
}

/* load_function(code_blob, rest) */
static PyObject *
load_function(PyObject *self, PyObject *args)
{
    PyObject *made, *func;

    (void)self;
    /* the key (code_blob, rest) is args itself: a tuple of the same items */
    made = built == NULL || PyTuple_Size(args) != 2 ? NULL : PyDict_GetItemWithError(built, args);
    if (made == NULL) {
        return PyErr_Occurred() ? NULL : PyObject_Call(python_load, args, NULL);
    }
    Py_INCREF(made); /* reading __file__ may run code that empties _built */
    func = from_made(made);
    Py_DECREF(made);
    if (func == NULL && !PyErr_Occurred()) {
        func = PyObject_Call(python_load, args, NULL);
    }
    return func;
}

static PyMethodDef load_def = {
    "load_function", load_function, METH_VARARGS,
    "load_function(code_blob, rest): a function sent again unchanged (cpmp._receive).",
};

/* make_loader(built, modules, module_globals, FunctionType, CellType,
 * python_load, module_name): the C load_function, whose __module__ is
 * module_name. */
PyObject *
cpmp_make_loader(PyObject *module, PyObject *args)
{
    PyObject *b, *m, *g, *f, *c, *p, *name;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!OOOOU:make_loader", &PyDict_Type, &b, &PyDict_Type, &m,
                          &g, &f, &c, &p, &name)) {
        return NULL;
    }
    if (n_file == NULL) {
        n_file = PyUnicode_InternFromString("__file__");
        n_module = PyUnicode_InternFromString("__module__");
        n_name = PyUnicode_InternFromString("__name__");
        mp_main = PyUnicode_InternFromString("__mp_main__");
        cpmp_loader_name = PyUnicode_InternFromString(load_def.ml_name);
        if (n_file == NULL || n_module == NULL || n_name == NULL || mp_main == NULL
                || cpmp_loader_name == NULL) {
            return NULL;
        }
    }
    cpmp_replace(&built, b);
    cpmp_replace(&modules, m);
    cpmp_replace(&module_globals, g);
    cpmp_replace(&function_type, f);
    cpmp_replace(&cell_type, c);
    cpmp_replace(&python_load, p);
    Py_XDECREF(cpmp_loader);
    cpmp_loader = PyCFunction_NewEx(&load_def, NULL, name);
    Py_XINCREF(cpmp_loader);
    return cpmp_loader;
}
