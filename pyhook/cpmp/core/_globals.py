"""The globals a module's functions run on (module_globals, which sender
and receiver both ask), and those of a function cpmp received when some
of the sender's values must win over its module's (_receive._build
chooses): a builtins
mapping of its own, made by with_builtins, or a Namespace, a dict of those
names that reads every other one live from the module.  Both in C where
_speedups loads (a Namespace's lookups then cost no Python call), else
here in Python.
"""

import builtins
import sys
from types import FunctionType

from . import _mutation


_main_dicts = {}


def module_globals(module):
    """The dict a module's own functions use as globals.  That is its
    __dict__, except for a main script a spawned child re-ran: __mp_main__
    copies the dict runpy ran the script in, and the script's functions (an
    initializer's `global` statement too) keep runpy's.  Found from one of
    those functions; once per module."""
    d = module.__dict__
    if d.get("__name__") != "__mp_main__":
        return d
    found = _main_dicts.get(id(module))
    if found is not None and found[0] is module:
        return found[1]
    real = d
    for value in list(d.values()):
        g = getattr(value, "__globals__", None)
        if type(value) is FunctionType and g is not d and value.__module__ == d.get("__name__") \
                and type(g) is dict and g.get("__name__") == d.get("__name__"):
            real = g
            break
    _main_dicts[id(module)] = (module, real)
    return real


class _PyNamespace(dict):
    """A received function's globals when some name must read the sender's
    value although the module binds it: those names are its own items,
    every other name is read live from the module (LOAD_GLOBAL asks
    __missing__ when globals are not exactly a dict).  _speedups.Namespace
    is its twin in C, used where it loads: a global lookup through this one
    costs a Python call."""

    __slots__ = ()

    def __missing__(self, name):
        try:
            return self.live[name]
        except KeyError:
            b = self.live.get("__builtins__", builtins)
            return (b if type(b) is dict else vars(b))[name]


def _namespace_class():
    try:
        from . import _speedups
    except ImportError:
        base = _PyNamespace
    else:
        base = getattr(_speedups, "Namespace", _PyNamespace)
    if _mutation.KEEP_C_OUT:
        base = _PyNamespace
    return type("_Namespace", (base,), {"__slots__": ("live",), "__module__": __name__})


Namespace = _namespace_class()


def _load_with_builtins():
    """_speedups.function_with_builtins, where functions keep their own
    builtins (3.10+) and the C extension is there; else None."""
    if sys.version_info < (3, 10):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return getattr(_speedups, "function_with_builtins", None)


with_builtins = _load_with_builtins()
