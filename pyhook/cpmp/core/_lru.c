/* The function a functools.lru_cache wrapper calls.  Its __wrapped__
 * attribute only names it: a program may set it to anything, and
 * functools.update_wrapper over a wrapper sets it to another function
 * (helper-33: cpmp sent the decoy, where python3's worker called the
 * cached function).  The C wrapper keeps the function in a field no
 * Python API reads.  Its place is found once, in two wrappers made around
 * functions of cpmp's own (lru_calibrate), and read there after. */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x03080000
#include <Python.h>

#include "_speedups.h"

static PyObject *lru_type;          /* the wrapper type calibrated, a strong reference */
static Py_ssize_t func_field = -1;  /* the field's index, in pointers */

/* The index of the one pointer field of wrapper that holds func, or -1:
 * none, or more than one. */
static Py_ssize_t
find_field(PyObject *wrapper, PyObject *func, Py_ssize_t fields)
{
    PyObject **words = (PyObject **)wrapper;
    Py_ssize_t i, found = -1;

    for (i = (Py_ssize_t)(sizeof(PyObject) / sizeof(PyObject *)); i < fields; i++) {
        if (words[i] == func) {
            if (found >= 0) {
                return -1;
            }
            found = i;
        }
    }
    return found;
}

PyObject *
cpmp_lru_calibrate(PyObject *module, PyObject *args)
{
    PyObject *w1, *f1, *w2, *f2, *size;
    Py_ssize_t basicsize, first, second;

    (void)module;
    if (!PyArg_ParseTuple(args, "OOOO", &w1, &f1, &w2, &f2)) {
        return NULL;
    }
    if (Py_TYPE(w1) != Py_TYPE(w2)) {
        Py_RETURN_FALSE;
    }
    size = PyObject_GetAttrString((PyObject *)Py_TYPE(w1), "__basicsize__");
    if (size == NULL) {
        return NULL;
    }
    basicsize = PyLong_AsSsize_t(size);
    Py_DECREF(size);
    if (basicsize < 0) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_FALSE;
    }
    first = find_field(w1, f1, basicsize / (Py_ssize_t)sizeof(PyObject *));
    second = find_field(w2, f2, basicsize / (Py_ssize_t)sizeof(PyObject *));
    if (first < 0 || first != second) {
        Py_RETURN_FALSE;
    }
    cpmp_replace(&lru_type, (PyObject *)Py_TYPE(w1));
    func_field = first;
    Py_RETURN_TRUE;
}

PyObject *
cpmp_lru_callee(PyObject *module, PyObject *wrapper)
{
    PyObject *func;

    (void)module;
    if (func_field < 0 || (PyObject *)Py_TYPE(wrapper) != lru_type) {
        Py_RETURN_NONE;
    }
    func = ((PyObject **)wrapper)[func_field];
    if (func == NULL) {
        Py_RETURN_NONE;
    }
    Py_INCREF(func);
    return func;
}
