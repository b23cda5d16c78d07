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

from . import _code, _held, _mutation, _receive

# What an entry holds, in order (read by _speedups by these names).
PINNED = ("__code__", "__name__", "__qualname__", "__module__", "__doc__", "__defaults__")
ENTRY = ("ref",) + PINNED + ("kwdefaults", "annotations", "cells", "globals", "reduce")

sent = {}  # id(function) -> entry


def cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _receive.EMPTY_CELL


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


def _frozen(value):
    t = type(value)
    if t in VALUE_TYPES or t is BuiltinFunctionType:
        return True
    if t is tuple or t is frozenset:
        return all(_frozen(v) for v in value)
    if t is ModuleType:
        return sys.modules.get(value.__name__) is value
    if t is FunctionType or isinstance(value, type):
        from . import _policy

        return _policy.by_value_reason(value, t is FunctionType) is None
    return False


def _cacheable(state, held):
    """Whether the bytes for state and held stay right while every object
    in them is still the same one."""
    if "dict" in state or "type_params" in state:
        return False
    for field in ("defaults", "cells"):
        if not _frozen(state.get(field)):
            return False
    for field in ("kwdefaults", "annotations", "shipped"):
        if field in state and not _frozen(tuple((state[field] or {}).values())):
            return False
    # A held object's fallback is a copy of it as it is now, and its checks
    # depend on what the main module binds.
    return not held


def lookup(func):
    """The reduce tuple cached for func, when func would still pickle to
    the same bytes (compared by identity), else None.  The pure-Python twin
    of _speedups.cached_reduce."""
    entry = None if _mutation.SLOW else sent.get(id(func))
    if entry is None or entry[0]() is not func or func.__dict__ or not registry_empty():
        return None
    n = len(PINNED)
    if any(getattr(func, a) is not v for a, v in zip(PINNED, entry[1:1 + n])):
        return None
    kwdefaults, annotations, cells, pairs, reduce = entry[1 + n:]
    if not _items_same(func.__kwdefaults__, kwdefaults) or \
            not _items_same(func.__annotations__, annotations):
        return None
    if _mutation.ACTIVE == "cache-by-eq":
        same = operator.eq
    else:
        same = operator.is_
    if any(not same(cell_value(c), v) for c, v in zip(func.__closure__ or (), cells)):
        return None
    g = func.__globals__
    if any(not same(g.get(k, _receive.EMPTY_CELL), v) for k, v in pairs):
        return None
    return reduce


def reduce(func, args, state):
    """The reduce tuple for func sent by value, cached when it can be."""
    code, gname, ncells, names, held = args
    if type(func.__globals__) is not dict or not _cacheable(state, held) or not registry_empty():
        return (_receive.make_function, (code, gname, ncells, names, held), state,
                None, None, _receive.set_function_state)
    rest = _compact_rest(func, gname, ncells, state, held)
    names = read_names(func, gname)
    if rest is not None:
        result = (_receive.load_function, (_code_blob(code, gname), rest))
    else:
        from . import _reduce

        result = (_receive.load_pickled_function, (_reduce.dumps((args, state)),))
    _remember(func, state, names, result)
    return result


def registry_empty():
    """Whether no module is registered to go by value: a registration
    changes what a function sent again is, so nothing is cached or reused
    while one is (the C fast path asks the same)."""
    from . import _policy

    cp = sys.modules.get("cloudpickle.cloudpickle")
    return not getattr(cp, "_PICKLE_BY_VALUE_MODULES", None) and not _policy.BY_VALUE_NAMES


def read_names(func, gname):
    """Every global name func's code reads that its receiver's module does
    not bind itself, bound here now or not: the bytes stay right only while
    each is bound to the same object (or still unbound)."""
    from . import _policy

    owned = _policy.module_owned(gname)
    if owned is None:
        return ()
    return tuple(sorted(n for n in _code.code_names(func.__code__)[0] if n not in owned))


def _remember(func, state, names, result):
    # The callback holds the dict itself: at interpreter exit, module
    # globals may already be None when the last functions die (seen on 3.10).
    forget = _forget(sent, id(func))
    g = func.__globals__
    if _mutation.ACTIVE == "freeze-first":
        names = ()
    pairs = tuple((name, g.get(name, _receive.EMPTY_CELL)) for name in names)
    sent[id(func)] = (
        weakref.ref(func, lambda ref: forget()),
        *(getattr(func, a) for a in PINNED),
        # Their items: the function's own dicts can change in place.
        _items(func.__kwdefaults__),
        _items(func.__annotations__),
        state.get("cells", ()),
        pairs,
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

