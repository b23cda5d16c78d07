/* The pass cpmp._held makes before every fork over what the main module
 * binds, in C: a fork with 100,000 main-module names would otherwise cost
 * what Python's loop does (300 ns a name).  A method of cpmp._speedups. */
#define Py_LIMITED_API 0x03080000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *str_token, *str_serial, *str_ident;

/* Set pin's slots: who pinned it, its serial number, its object's id. */
static int
pin_fill(PyObject *pin, PyObject *token, Py_ssize_t serial, PyObject *ident)
{
    PyObject *number = PyLong_FromSsize_t(serial);
    int failed;

    if (str_token == NULL) {
        str_token = PyUnicode_InternFromString("token");
        str_serial = PyUnicode_InternFromString("serial");
        str_ident = PyUnicode_InternFromString("ident");
    }
    failed = number == NULL || str_token == NULL || str_serial == NULL || str_ident == NULL
             || PyObject_SetAttr(pin, str_token, token) < 0
             || PyObject_SetAttr(pin, str_serial, number) < 0
             || PyObject_SetAttr(pin, str_ident, ident) < 0;
    Py_XDECREF(number);
    return failed ? -1 : 0;
}

/* Whether no_weakref says objects of type take no weak reference: a C
 * type is a key itself, a class (it may die: the table must not keep it
 * alive) is an id whose value is a weak reference to it.  1, 0, -1. */
static int
weakless(PyObject *no_weakref, PyObject *type)
{
    PyObject *key, *ref;
    int found;

    if (!(PyType_GetFlags((PyTypeObject *)type) & Py_TPFLAGS_HEAPTYPE)) {
        return PyDict_Contains(no_weakref, type);
    }
    key = PyLong_FromVoidPtr(type);
    if (key == NULL) {
        return -1;
    }
    ref = PyDict_GetItemWithError(no_weakref, key);
    Py_DECREF(key);
    if (ref == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    ref = PyObject_CallFunctionObjArgs(ref, NULL);
    if (ref == NULL) {
        return -1;
    }
    found = ref == type;
    Py_DECREF(ref);
    return found;
}

/* Note in no_weakref that objects of type take no weak reference. */
static int
note_weakless(PyObject *no_weakref, PyObject *type)
{
    PyObject *key, *ref;
    int failed;

    if (!(PyType_GetFlags((PyTypeObject *)type) & Py_TPFLAGS_HEAPTYPE)) {
        return PyDict_SetItem(no_weakref, type, Py_None);
    }
    key = PyLong_FromVoidPtr(type);
    ref = key == NULL ? NULL : PyWeakref_NewRef(type, NULL);
    failed = ref == NULL || PyDict_SetItem(no_weakref, key, ref) < 0;
    Py_XDECREF(key);
    Py_XDECREF(ref);
    return failed ? -1 : 0;
}

/* pin_one: pin value (a pin_type, cpmp._held._Pin, numbered serial + 1),
 * unless it is pinned already or its type takes no weak reference.
 * tables: pins, no_weakref, pin_type.  1: it is pinned, 0: it takes
 * none, -1: an error. */
static int
pin_one(PyObject *value, PyObject **tables, PyObject *callback, PyObject *token,
        Py_ssize_t *serial)
{
    PyObject *pins = tables[0], *no_weakref = tables[1], *ident, *pin;
    int done;

    /* The type first: a list or a dict costs one lookup and no allocation. */
    done = weakless(no_weakref, (PyObject *)Py_TYPE(value));
    if (done != 0) {
        return done < 0 ? -1 : 0;
    }
    ident = PyLong_FromVoidPtr(value);
    if (ident == NULL) {
        return -1;
    }
    done = PyDict_Contains(pins, ident);
    if (done != 0) {
        Py_DECREF(ident);
        return done;
    }
    /* Held while pinned (the only write to an object already seen is
     * none): creating its weak reference may collect, and a finalizer may
     * unbind it. */
    Py_INCREF(value);
    pin = PyObject_CallFunctionObjArgs(tables[2], value, callback, NULL);
    if (pin == NULL) {
        Py_DECREF(ident);
        done = -1;
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear(); /* takes no weak reference: always sent by value */
            done = note_weakless(no_weakref, (PyObject *)Py_TYPE(value));
        }
        Py_DECREF(value);
        return done;
    }
    done = pin_fill(pin, token, *serial + 1, ident) < 0 || PyDict_SetItem(pins, ident, pin) < 0;
    if (!done) {
        *serial += 1;
    }
    Py_DECREF(pin);
    Py_DECREF(ident);
    Py_DECREF(value);
    return done ? -1 : 1;
}

/* Whether value is a small immutable value the child records as what the
 * name was bound to at the fork: a type in small, strings and bytes up to
 * 4 KiB.  1, 0, or -1 with an exception. */
static int
is_small(PyObject *value, PyObject *small)
{
    Py_ssize_t size;
    int found = PySet_Contains(small, (PyObject *)Py_TYPE(value));

    if (found <= 0 || !(PyUnicode_Check(value) || PyBytes_Check(value))) {
        return found;
    }
    size = PyUnicode_Check(value) ? PyUnicode_GetLength(value) : PyBytes_Size(value);
    return size >= 0 && size <= 4096;
}

/* What the last pass saw at each slot of the main module's entries, so
 * that the next pass skips, without reading the object, every name bound
 * as it was: a pinned object is the same while no pin has died (a dead
 * one's address may hold another object), a small value while the
 * snapshot holds it, anything else while its type is the same (it is
 * neither pinned nor recorded).  Valid for one main dict, one snapshot
 * and one count of deaths; a forked child's next pass starts afresh (it
 * gets a snapshot of its own). */
enum { SEEN_SMALL, SEEN_PINNED, SEEN_OTHER };
typedef struct {
    PyObject *name, *value, *type; /* borrowed: compared, never read */
    int kind;
} seen_slot;

static struct {
    seen_slot *slots;
    Py_ssize_t size;
    PyObject *main, *snapshot; /* compared only */
    Py_ssize_t deaths;
} seen;

static int
seen_grow(Py_ssize_t slot)
{
    Py_ssize_t size = seen.size;
    seen_slot *grown;

    if (slot < size) {
        return 0;
    }
    while (size <= slot) {
        size = size < 64 ? 64 : size * 2;
    }
    grown = PyMem_Realloc(seen.slots, (size_t)size * sizeof(*grown));
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(grown + seen.size, 0, (size_t)(size - seen.size) * sizeof(*grown));
    seen.slots = grown;
    seen.size = size;
    return 0;
}

/* Whether slot holds what the last pass saw there (valid: its record is):
 * the same name and object (a small value and its name the snapshot
 * holds; a pinned object lives while no pin has died), of the same type
 * for anything else, whose address another object may have taken. */
static int
seen_same(int valid, Py_ssize_t slot, PyObject *name, PyObject *value)
{
    seen_slot *s = slot < seen.size ? &seen.slots[slot] : NULL;

    return valid && s != NULL && s->name == name && s->value == value
           && (s->kind != SEEN_OTHER || s->type == (PyObject *)Py_TYPE(value));
}

/* One name, not bound as the last pass saw it: record a small value in
 * snapshot, else drop it from there and pin the value. */
static int
fork_pass_one(PyObject *name, PyObject *value, PyObject **tables, PyObject **how,
              Py_ssize_t *serial, int *kind)
{
    PyObject *small = how[2], *snapshot = how[3];
    int small_value = is_small(value, small), had;

    if (small_value < 0) {
        return -1;
    }
    if (small_value) {
        *kind = SEEN_SMALL;
        return PyDict_SetItem(snapshot, name, value);
    }
    had = PyDict_Contains(snapshot, name);
    if (had < 0 || (had && PyDict_DelItem(snapshot, name) < 0)) {
        return -1;
    }
    had = pin_one(value, tables, how[0], how[1], serial);
    *kind = had == 1 ? SEEN_PINNED : SEEN_OTHER;
    return had < 0 ? -1 : 0;
}

/* snapshot = what main binds to small values, afresh: a name was unbound
 * since the last pass, or rebound to what it holds no more. */
static int
fork_pass_resnapshot(PyObject *main, PyObject *small, PyObject *snapshot)
{
    PyObject *name, *value;
    Py_ssize_t pos = 0;
    int small_value;

    PyDict_Clear(snapshot);
    while (PyDict_Next(main, &pos, &name, &value)) {
        small_value = is_small(value, small);
        if (small_value < 0 || (small_value && PyDict_SetItem(snapshot, name, value) < 0)) {
            return -1;
        }
    }
    return 0;
}

/* fork_pass(main_dict, pins, no_weakref, pin_type, callback, token, serial,
 * small_types, snapshot, deaths) -> serial: cpmp._held._pin_main,
 * in one pass before a fork over what the main module binds.  A small
 * immutable value goes into snapshot under its name (the child inherits
 * it: what the name was bound to at the fork), anything else taking a
 * weak reference is pinned.  deaths: how many pins have died so far.
 *
 * Borrowed references, and nothing read of a name bound as the last pass
 * saw it (seen): a reference taken writes the object's count, and every
 * page so written after a fork is copied, in this process, while a child
 * lives; an object's type read from memory no cache holds costs 0.2 us a
 * name.  So a fork costs a walk of the main dict's table (3 ns a name),
 * and work only for the names bound since the last fork. */
PyObject *
cpmp_fork_pass(PyObject *module, PyObject *args)
{
    PyObject *main, *tables[3], *how[4], *name, *value;
    Py_ssize_t serial, deaths, pos = 0, small_seen = 0, slot;
    int valid, failed = 0, kind;

    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!O!OOnO!O!n:fork_pass", &PyDict_Type, &main,
                          &PyDict_Type, &tables[0], &PyDict_Type, &tables[1], &PyType_Type,
                          &tables[2], &how[0], &how[1], &serial, &PyFrozenSet_Type, &how[2],
                          &PyDict_Type, &how[3], &deaths)) {
        return NULL;
    }
    valid = seen.main == main && seen.snapshot == how[3] && seen.deaths == deaths;
    seen.main = seen.snapshot = NULL; /* until this pass is done */
    while (!failed && PyDict_Next(main, &pos, &name, &value)) {
        slot = pos - 1; /* the entry's index in the dict's table */
        if (seen_same(valid, slot, name, value)) {
            small_seen += seen.slots[slot].kind == SEEN_SMALL;
            continue;
        }
        failed = seen_grow(slot) < 0
                 || fork_pass_one(name, value, tables, how, &serial, &kind) < 0;
        if (!failed) {
            seen.slots[slot] = (seen_slot){name, value, (PyObject *)Py_TYPE(value), kind};
            small_seen += kind == SEEN_SMALL;
        }
    }
    if (!failed && PyDict_Size(how[3]) != small_seen) {
        /* A name went: the snapshot no longer holds what every slot saw,
         * so the next pass reads every name again. */
        failed = fork_pass_resnapshot(main, how[2], how[3]) < 0;
        deaths = -1;
    }
    if (failed) {
        return NULL;
    }
    seen.main = main;
    seen.snapshot = how[3];
    seen.deaths = deaths;
    return PyLong_FromSsize_t(serial);
}

/* before_fork(held): cpmp._held._before_fork in C, registered as it is
 * (through functools.partial), so that a fork runs no Python code of
 * cpmp's: a thread switch inside the hook had let another thread import
 * logging between the fork's before and after hooks, whose after hook
 * then released a lock it never took.  Reads held's tables, sets its
 * _serial, _snapshot_ok and, on failure, a fresh _snapshot. */
PyObject *
cpmp_before_fork(PyObject *module, PyObject *held)
{
    static const char *const names[] = {"_pins", "_no_weakref", "_Pin", "_forget", "_token",
                                        "_serial", "_SMALL_TYPES", "_snapshot", "_deaths"};
    PyObject *items[9] = {NULL}, *modules, *main, *args = NULL, *serial = NULL, *deaths;
    int i, ok = 1;

    (void)module;
    modules = PySys_GetObject("modules"); /* borrowed */
    main = modules == NULL ? NULL : PyMapping_GetItemString(modules, "__main__");
    if (main == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    for (i = 0; i < 9 && ok; i++) {
        ok = (items[i] = PyObject_GetAttrString(held, names[i])) != NULL;
    }
    deaths = ok ? PySequence_GetItem(items[8], 0) : NULL;
    args = deaths == NULL ? NULL
                          : Py_BuildValue("(NOOOOOOOON)", PyObject_GetAttrString(main, "__dict__"),
                                          items[0], items[1], items[2], items[3], items[4],
                                          items[5], items[6], items[7], deaths);
    serial = args == NULL ? NULL : cpmp_fork_pass(NULL, args);
    ok = serial != NULL && PyObject_SetAttrString(held, "_serial", serial) == 0
         && PyObject_SetAttrString(held, "_snapshot_ok", Py_True) == 0;
    if (!ok) {
        /* Never in the way of a fork: what could not be pinned goes by
         * value, and the child gets no record. */
        PyObject *fresh = PyDict_New();

        PyErr_Clear();
        if (fresh == NULL || PyObject_SetAttrString(held, "_snapshot", fresh) < 0
            || PyObject_SetAttrString(held, "_snapshot_ok", Py_False) < 0) {
            PyErr_Clear();
        }
        Py_XDECREF(fresh);
    }
    Py_XDECREF(serial);
    Py_XDECREF(args);
    for (i = 0; i < 9; i++) {
        Py_XDECREF(items[i]);
    }
    Py_DECREF(main);
    Py_RETURN_NONE;
}
