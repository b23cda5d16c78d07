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
from types import FunctionType

from . import _policy

LRU = type(functools.lru_cache(maxsize=None)(lambda: None))
held_entry = held_reduce = None  # _send's (it is built on this module): it sets them


def wrapped(value):
    """The function or class value wraps (an lru_cache wrapper, a partial),
    or None."""
    t = type(value)
    if t is LRU:
        inner = getattr(value, "__wrapped__", None)
    elif t is functools.partial:
        inner = value.func
    else:
        return None
    return inner if type(inner) is FunctionType or isinstance(inner, type) else None


def reduce_lru(obj):
    """The reducer of an lru_cache wrapper: by reference (the standard
    pickler's) where the function goes so, else held or by value."""
    func = getattr(obj, "__wrapped__", None)
    if type(func) is not FunctionType or _policy.by_value_reason(func, True) is None:
        return NotImplemented
    entry = held_entry(obj)
    if entry is not None:
        return held_reduce(obj, entry)
    return lru_by_value(obj)


def lru_by_value(obj):
    params = obj.cache_parameters()
    attrs = {k: v for k, v in vars(obj).items() if k not in ("__wrapped__", "cache_parameters")}
    return make_lru_cache, (obj.__wrapped__, params["maxsize"], params["typed"], attrs)


def make_lru_cache(func, maxsize, typed, attrs):
    """A new cache around func, with the wrapper's attributes."""
    wrapper = functools.lru_cache(maxsize=maxsize, typed=typed)(func)
    vars(wrapper).update(attrs)
    return wrapper
