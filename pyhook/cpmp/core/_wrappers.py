"""Wrappers of main-module functions: functools.lru_cache's and partial.

A wrapper the standard pickler sends by reference (an lru_cache'd def of
the main block: by its name) is, like the def itself, a reference to the
receiver's own where a forked receiver holds it, else sent by value: a
new cache around the function sent by value, empty as a spawned child's
would be (python3 with a top-level def).  A held wrapper is the
receiver's own only where the function it wraps would be: its checks are
that function's (_send.held_entry), or a partial held by a worker would
call the worker's copy of a function that reads a rebound name
(helper-28).
"""

import functools
import gc
from types import FunctionType

from . import _held, _policy

LRU = type(functools.lru_cache(maxsize=None)(lambda: None))
held_entry = held_reduce = None  # _send's (it is built on this module): it sets them


def wrapped(value):
    """The function or class value calls (an lru_cache wrapper, a partial),
    or None.  An lru_cache wrapper's __wrapped__ only names it: a program
    may set it to another function, and update_wrapper over the wrapper
    does (helper-33: the worker called that one)."""
    t = type(value)
    if t is LRU:
        inner = _callee(value)
    elif t is functools.partial:
        inner = value.func
    else:
        return None
    return inner if type(inner) is FunctionType or isinstance(inner, type) else None


def _calibrate():
    """_callee: the function an lru_cache wrapper calls, found where two
    wrappers of cpmp's own keep theirs -- in C, a field of the wrapper
    (_lru.c); else among what the collector sees it refer to, at the same
    place from the end (its cache's keys and results come first) -- or
    None: an interpreter whose wrapper keeps it elsewhere."""
    def one():
        pass

    def two():
        pass

    w1, w2 = functools.lru_cache(maxsize=None)(one), functools.lru_cache(maxsize=2)(two)
    w2()
    calibrate, callee = _held._speedup("lru_calibrate"), _held._speedup("lru_callee")
    if calibrate is not None and callee is not None and calibrate(w1, one, w2, two):
        return callee
    found = []
    for w, f in ((w1, one), (w2, two)):
        refs = gc.get_referents(w)
        found += [i - len(refs) for i, r in enumerate(refs) if r is f]
    if len(found) != 2 or found[0] != found[1]:
        return lambda w: None
    at = found[0]

    def referent(w):
        refs = gc.get_referents(w)
        return refs[at] if len(refs) >= -at else None

    return referent


_callee = _calibrate()


def reduce_lru(obj):
    """The reducer of an lru_cache wrapper: by reference (the standard
    pickler's) where the function goes so, else held or by value."""
    func = wrapped(obj)
    if type(func) is not FunctionType or _policy.by_value_reason(func, True) is None:
        return NotImplemented  # (func unknown: by name, as python3 sends it)
    entry = held_entry(obj)
    if entry is not None:
        return held_reduce(obj, entry)
    return lru_by_value(obj)


def lru_by_value(obj):
    params = obj.cache_parameters()
    # The attributes as state, set once the wrapper exists: one may be the
    # wrapper itself (__wrapped__ = f; helper-37: RecursionError as args).
    attrs = {k: v for k, v in vars(obj).items() if k != "cache_parameters"}
    return make_lru_cache, (wrapped(obj), params["maxsize"], params["typed"]), attrs


def make_lru_cache(func, maxsize, typed, attrs=None):
    """A new cache around func; its attributes (__wrapped__ too, whatever it
    names) come as its state (attrs: as cpmp 0.1 sent them)."""
    wrapper = functools.lru_cache(maxsize=maxsize, typed=typed)(func)
    if attrs:
        vars(wrapper).update(attrs)
    return wrapper
