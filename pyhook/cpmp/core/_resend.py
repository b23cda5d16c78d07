"""Sending the same function again (imap(f, data, chunksize=1) sends f once
per item): pickled once, sent again as the same bytes while it provably
would pickle to them.

An entry pins by identity everything the bytes were made from: the code
and attributes, every cell's contents, every main-module value it carries;
it is only made when all of those are immutable (numbers, strings, tuples
of them, modules and definitions sent by reference), so nothing is ever
sent stale.  The C fast path (_speedups.cached_reduce) checks entries
without running Python: it takes their layout from ENTRY below, by name,
and refuses to load when a name it needs is missing.

The receiver builds a fresh function from the bytes every time.
"""

import marshal
import operator
import sys
import weakref
from types import BuiltinFunctionType, FunctionType, ModuleType

from . import _code, _held, _mutation, _policy, _receive, _wire

# What an entry holds, in order (read by _speedups by these names).
PINNED = ("__code__", "__name__", "__qualname__", "__module__", "__doc__", "__defaults__")
ENTRY = ("ref",) + PINNED + ("kwdefaults", "annotations", "cells", "globals", "byref",
                             "reduce")

sent = {}  # id(function) -> entry
# cpmp's pickler, for state marshal cannot hold: _reduce sets it (it is
# built on the reducers that call this module).
dumps = None
# The same for main-module definitions a forked receiver may hold: sent
# again, such a one goes as a reference to the receiver's own when one
# holds it (_send.held_entry decides, each time), so the C fast path,
# which reads only ``sent``, never sees them; their by-value bytes are
# still reused for the fallback and where nobody holds them.
holdable = {}


VALUE_TYPES = _held.VALUE_TYPES


def immutable(value):
    """Whether value is a number, string, bytes or the like, or a tuple or
    frozenset of them: what a receiver holding an equal one can use."""
    t = type(value)
    if t in VALUE_TYPES:
        return True
    if t is tuple or t is frozenset:
        return all(immutable(v) for v in value)
    return False


def _frozen(value, refs):
    """Whether value pickles to the same bytes while it is the same object;
    a definition sent by reference only while its module still finds it
    under its name, so it goes into refs, checked at every lookup."""
    t = type(value)
    if t in VALUE_TYPES:
        return True
    if t is BuiltinFunctionType:
        # len, math.sqrt: bound to their module; table.get, lst.append:
        # bound to an object pickled with it, which may change in place.
        return value.__self__ is None or _frozen(value.__self__, refs)
    if t is tuple or t is frozenset:
        return all(_frozen(v, refs) for v in value)
    if t is ModuleType:
        # A package: which of its submodules the receiver must import
        # depends on what the sender has imported by then (_send).
        return sys.modules.get(value.__name__) is value and not hasattr(value, "__path__")
    if t is FunctionType or isinstance(value, type):
        if _policy.by_value_reason(value, t is FunctionType) is not None:
            return False
        if t is not FunctionType and not value.__flags__ & (1 << 9):
            return True  # a C type: its name and module cannot change
        refs.append(value)
        return remember_by_reference(value)
    return False


def _cacheable(state, held, refs):
    """Whether the bytes for state and held stay right while every object
    in them is still the same one (and every definition in refs still goes
    by reference)."""
    if "dict" in state or "type_params" in state:
        return False
    for field in ("defaults", "cells"):
        if not _frozen(state.get(field), refs):
            return False
    for field in ("kwdefaults", "annotations", "shipped"):
        if field in state and not _frozen(tuple((state[field] or {}).values()), refs):
            return False
    # A held object's fallback is a copy of it as it is now, and its checks
    # depend on what the main module binds.
    return not held


# _speedups.lookup, when the C fast path is in (_reduce sets it).
c_lookup = None


def lookup(func):
    """The reduce tuple cached for func, when func would still pickle to
    the same bytes (compared by identity), else None.  In C when the fast
    path is in; below, its pure-Python twin."""
    if c_lookup is not None:
        return c_lookup(func, holdable, sent)
    entry = None if _mutation.SLOW else sent.get(id(func)) or holdable.get(id(func))
    if entry is None or entry[0]() is not func or func.__dict__ or not registry_empty():
        return None
    n = len(PINNED)
    if any(getattr(func, a) is not v for a, v in zip(PINNED, entry[1:1 + n])):
        return None
    kwdefaults, annotations, cells, pairs, byref, reduce = entry[1 + n:]
    if not _items_same(func.__kwdefaults__, kwdefaults) or \
            not _items_same(_wire.annotations(func), annotations):
        return None
    if _mutation.ACTIVE == "cache-by-eq":
        same = operator.eq
    else:
        same = operator.is_
    if any(not same(_wire.cell_value(c), v) for c, v in zip(func.__closure__ or (), cells)):
        return None
    g = func.__globals__
    if any(not same(g.get(k, _wire.EMPTY_CELL), v) for k, v in pairs):
        return None
    if not all(goes_by_reference(d) for d in byref):
        return None
    return reduce


def reduce(func, args, state):
    """The reduce tuple for func sent by value, cached when it can be."""
    code, gname, ncells, names, held = args
    refs = []
    if type(func.__globals__) is not dict or not _cacheable(state, held, refs) \
            or not registry_empty():
        return (_receive.make_function, (code, gname, ncells, names, held), state,
                None, None, _receive.set_function_state)
    rest = _compact_rest(func, gname, ncells, state, held)
    names = read_names(func, gname)
    if rest is not None:
        result = (_receive.load_function, (_code_blob(code, gname), rest))
    else:
        result = (_receive.load_pickled_function, (dumps((args, state)),))
    _remember(func, state, names, refs, result)
    return result


# id(function) -> (weak references to it and its module, module name,
# qualified name): a function the policy sent by reference, found as that
# module's attribute of that name; while all of it holds, it goes by
# reference again without asking (a top-level def sent by every task: 8.6k
# instructions a send).  Read by the C fast path too (cpmp_by_reference).
by_reference = {}


def remember_by_reference(func):
    """Record that func (or a class) went by reference, where that can be
    checked cheaply: an undotted name, no module registered by value.
    Whether it is recorded, and holds."""
    modname, qualname = func.__module__, func.__qualname__
    if type(modname) is not str or type(qualname) is not str or "." in qualname \
            or _policy.BY_VALUE_NAMES or not registry_empty():
        return False
    module = sys.modules.get(modname)
    if module is None or getattr(module, qualname, None) is not func:
        return False
    if id(func) not in by_reference:
        forget = _forget(by_reference, id(func))
        # Weak: holding a module (__main__) changes the order the interpreter
        # clears modules at exit in (a Pool left open prints a traceback).
        by_reference[id(func)] = (weakref.ref(func, lambda ref: forget()), weakref.ref(module),
                                  modname, qualname)
    return goes_by_reference(func)


def goes_by_reference(func):
    """The pure-Python twin of _speedups.cpmp_by_reference."""
    entry = None if _mutation.SLOW else by_reference.get(id(func))
    if entry is None:
        return False
    ref, module, modname, qualname = entry
    module = module()
    return (ref() is func and func.__module__ is modname and func.__qualname__ is qualname
            and module is not None and sys.modules.get(modname) is module
            and getattr(module, qualname, None) is func and registry_empty())


def registry_empty():
    """Whether no module is registered to go by value: a registration
    changes what a function sent again is, so nothing is cached or reused
    while one is (the C fast path asks the same)."""
    cp = sys.modules.get("cloudpickle.cloudpickle")
    return not getattr(cp, "_PICKLE_BY_VALUE_MODULES", None) and not _policy.BY_VALUE_NAMES


def read_names(func, gname):
    """Every global name func's code reads that its receiver's module does
    not bind itself, bound here now or not: the bytes stay right only while
    each is bound to the same object (or still unbound)."""
    owned = _policy.module_owned(gname)
    if owned is None:
        return ()
    return tuple(sorted(n for n in _code.code_names(func.__code__)[0] if n not in owned))


def _remember(func, state, names, refs, result):
    # The callback holds the dict itself: at interpreter exit, module
    # globals may already be None when the last functions die (seen on 3.10).
    # Any main-module def a name finds may be held later (bound again after
    # a fork), whatever the policy says now; a lambda or local def never.
    qualname = func.__qualname__
    table = holdable if func.__module__ in _policy.MAIN_NAMES and "<" not in qualname else sent
    forget = _forget(table, id(func))
    g = func.__globals__
    if _mutation.ACTIVE == "freeze-first":
        names = ()
    pairs = tuple((name, g.get(name, _wire.EMPTY_CELL)) for name in names)
    table[id(func)] = (
        weakref.ref(func, lambda ref: forget()),
        *(getattr(func, a) for a in PINNED),
        # Their items: the function's own dicts can change in place.
        _items(func.__kwdefaults__),
        _items(_wire.annotations(func)),
        state.get("cells", ()),
        pairs,
        tuple(refs),
        result,
    )


def _items(d):
    return tuple(d.items()) if d else None


def _items_same(d, items):
    """Whether dict d holds exactly these (key, value) pairs, the very
    objects in the same order (== would take 1 for True)."""
    if not d:
        return items is None
    return items is not None and len(d) == len(items) and all(
        k is k2 and v is v2 for (k, v), (k2, v2) in zip(d.items(), items))


def _forget(cache, key):
    import functools

    return functools.partial(cache.pop, key, None)


def _code_blob(code, gname):
    """TAG + marshal bytes of code, its file name left out when it is the
    module's own __file__, which the receiver has too."""
    module = sys.modules.get(gname) if gname is not None else None
    path = getattr(module, "__file__", None)
    if path is not None and code.co_filename == path:
        code = _code.renamed(code, path, "")
    return _code.TAG + marshal.dumps(code)


def _compact_rest(func, gname, ncells, state, held):
    """marshal bytes of what the receiver needs besides the code, only what
    a fresh function of that code would not have anyway (with imap and
    chunksize=1 each task's size is most of its cost), or None when
    something in it is not marshal-able (a module, say)."""
    code = func.__code__
    fresh = {"name": code.co_name, "qualname": getattr(code, "co_qualname", code.co_name),
             "module": gname, "doc": None, "defaults": None, "kwdefaults": None}
    small = {k: v for k, v in state.items() if k not in fresh or fresh[k] != v}
    try:
        return marshal.dumps((gname, ncells, small, held))
    except ValueError:
        return None

