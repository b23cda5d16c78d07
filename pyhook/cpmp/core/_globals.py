"""The globals a module's functions run on (module_globals, which sender
and receiver both ask), and those of a function cpmp received when some
of the sender's values must win over its module's (_receive._build
chooses): a Namespace, a dict of those values whose builtins, a Builtins,
read every other name live from the module, then from its builtins (see
_namespace.c).  Both in C where _speedups loads (their lookups then cost
no Python call), else here in Python.
"""

import builtins
import sys
from types import FunctionType, ModuleType

from . import _mutation, _wire


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


class _PyBuiltins(dict):
    """The builtins of a Namespace: a copy of the builtins, for the C code
    that reads them through the dict API (__import__, iter), whose lookups
    read the module dict under MARK live, then the module's builtins.
    _speedups.Builtins is its twin in C."""

    __slots__ = ()

    def __getitem__(self, name):
        live = dict.get(self, MARK)
        if type(live) is not dict:
            return dict.__getitem__(self, name)
        # The module's names only for code running on a Namespace (a class
        # body, eval): eval and exec given a dict of their own get these
        # builtins too, and see only the builtins, as without cpmp.
        if type(sys._getframe(1).f_globals) is Namespace and name in live:
            return live[name]
        b = live.get("__builtins__", builtins)
        if type(b) is ModuleType:
            b = vars(b)
        return dict.__getitem__(self if b is self else b, name) if isinstance(b, dict) \
            else b[name]


class _PyNamespace(dict):
    """The globals of a received function that must see some of the
    sender's values: those are its items, every other name is its
    builtins' (a Builtins: the module's, live).  _speedups.Namespace is
    its twin in C: a global lookup through this one costs a Python call."""

    __slots__ = ()

    def __getitem__(self, name):
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            b = dict.get(self, "__builtins__")
            if b is None:
                raise
        if type(b) is Builtins:
            live = dict.get(b, MARK)
            if type(live) is dict:
                if name in live:
                    return live[name]
                b = live.get("__builtins__", builtins)
        return (vars(b) if type(b) is ModuleType else b)[name]

    def _live(self):
        b = dict.get(self, "__builtins__")
        live = dict.get(b, MARK) if type(b) is Builtins else None
        return live if type(live) is dict else {}

    def __contains__(self, name):
        """Its own item or the module's (not the builtins': they are not in
        a module's globals either), as cloudpickle asks before a read."""
        return dict.__contains__(self, name) or name in self._live()

    def get(self, name, default=None):
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return self._live().get(name, default)


MARK = _wire.BUILTINS_MARK


def _types():
    """(Namespace, Builtins): _speedups' where it loads, else the Python twins."""
    if _mutation.KEEP_C_OUT:
        return _PyNamespace, _PyBuiltins
    try:
        from . import _speedups
    except ImportError:
        _speedups = None
    if getattr(_speedups, "MARK", None) != MARK:
        return _PyNamespace, _PyBuiltins
    return _speedups.Namespace, _speedups.Builtins


Namespace, Builtins = _types()
# What C code reads from a function's globals through the dict API
# (warnings: __name__; relative imports: __package__, __spec__), copied
# from its module, as cloudpickle copies them.
_DUNDERS = ("__name__", "__package__", "__spec__", "__file__", "__path__", "__loader__")


def namespace(live, values):
    """Globals for a function of module dict live that must see values (the
    sender's) over the module's bindings, and everything else live."""
    b = live.get("__builtins__", builtins)
    mine = Builtins(b if type(b) is dict else vars(b))
    mine[MARK] = live
    ns = Namespace({k: live[k] for k in _DUNDERS if k in live})
    # The module's registry of warnings already shown, as its functions
    # use (warnings keeps it in the caller's globals): "once" means once
    # per process, not once per task.
    registry = live.get("__warningregistry__")
    if type(registry) is not dict:
        registry = live["__warningregistry__"] = {}
    ns["__warningregistry__"] = registry
    ns.update(values)
    ns["__builtins__"] = mine
    return ns


def live_of(ns):
    """The module dict a Namespace reads, or None when ns is none."""
    if type(ns) is not Namespace:
        return None
    b = dict.get(ns, "__builtins__")
    live = dict.get(b, MARK) if type(b) is Builtins else None
    return live if type(live) is dict else None
