/* What the files of cpmp._speedups share: the resend cache's entry points
 * (_resend_cache.c) and the fork-time loops (_held_fork.c), private to the
 * extension; _speedups.c makes the module. */
#ifndef CPMP_SPEEDUPS_H
#define CPMP_SPEEDUPS_H

/* Take the cache dict, EMPTY_CELL, PINNED and the ENTRY layout; 0, or -1
 * with ValueError when the layout lacks a field. */
int cpmp_cache_set(PyObject *cache, PyObject *empty, PyObject *pinned, PyObject *layout);

/* A new reference to the reduce tuple table (cpmp._resend.sent or
 * .holdable; NULL: sent) holds for func while it still holds; NULL without
 * an error when it does not, NULL with one on failure. */
PyObject *cpmp_cached_reduce(PyObject *table, PyObject *func);

/* 1 when no module is registered with cloudpickle to go by value. */
int cpmp_registry_empty(void);

/* 1 when func is recorded as going by reference and nothing that decided
 * it changed since, 0 when not, -1 with an error set; and where the record
 * is (cpmp._resend.by_reference). */
int cpmp_by_reference(PyObject *func);
void cpmp_by_reference_set(PyObject *table);

/* _held_fork.c: the methods fork_pass and before_fork. */
PyObject *cpmp_fork_pass(PyObject *module, PyObject *args);
PyObject *cpmp_before_fork(PyObject *module, PyObject *held);

/* _namespace.c: add the types Namespace and Builtins, and MARK, to the
 * module; 0, or -1 with an error set. */
int cpmp_namespace_types(PyObject *module);

/* _lru.c: the methods lru_calibrate and lru_callee. */
PyObject *cpmp_lru_calibrate(PyObject *module, PyObject *args);
PyObject *cpmp_lru_callee(PyObject *module, PyObject *wrapper);

/* _held_class.c: a main-module class's reference sent again (a new
 * reference, or NULL without an error), and the methods set_held and
 * snapshot_is. */
PyObject *cpmp_held_class(PyObject *cls);
PyObject *cpmp_set_held(PyObject *module, PyObject *args);
PyObject *cpmp_snapshot_is_method(PyObject *module, PyObject *args);

/* _snapshot.c: whether cls's snapshot is the one of those ids (packed
 * pointers), and what the walk compares with (set_held's arguments). */
int cpmp_snapshot_is(PyObject *cls, PyObject *ids);
int cpmp_snapshot_set(PyObject *marks, PyObject *descriptors, PyObject *value_types,
                      PyObject *kinds, PyObject *holdable, PyObject *own);

/* _load.c: the method make_loader (cpmp._receive.load_function in C). */
PyObject *cpmp_make_loader(PyObject *module, PyObject *args);
extern PyObject *cpmp_loader; /* the one make_loader made last, or NULL */
extern PyObject *cpmp_loader_name; /* its __name__, once cpmp_loader is set */

/* *slot = value, a new reference, dropping the old one. */
void cpmp_replace(PyObject **slot, PyObject *value);


#endif
