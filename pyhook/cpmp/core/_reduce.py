"""cpmp's pickler: multiprocessing's ForkingPickler plus one reducer_override
and reducers for the types the standard pickler refuses outright (and for
bound methods its name would not find).  reducer_override is the C fast
path (_speedups) when it loads, else its pure-Python twin; either asks
_send, which asks _policy.  Decided once at import: with tracing off the
pickler calls it directly.
"""

import abc
import copyreg
import io
import operator
import pickle
import sys
import weakref
from collections import OrderedDict
from types import CellType, ClassMethodDescriptorType, CodeType, FunctionType, \
    GetSetDescriptorType, MappingProxyType, MethodType, ModuleType

from . import _cloud, _code, _fallback, _held, _mutation, _policy, _receive, _resend, _send, \
    _typevar, _wire, _wrappers


def _reduce_cell(cell):
    return _receive.make_cell, (_wire.cell_value(cell),)


def _reduce_module(module):
    name = module.__name__
    if sys.modules.get(name) is module and not _policy.by_value_module(name):
        return _receive.import_module, (name,)
    state = {k: v for k, v in vars(module).items() if k != "__builtins__"}
    return _receive.make_module, (name, state)


def reduce_module_subclass(module):
    """A module of a subclass of ModuleType (py's ApiModule, importlib's
    _LazyModule), made at any time, as a module -- unless its type has a
    pickling method or a reducer of its own, which then decides as without
    cpmp."""
    t = type(module)
    if t in copyreg.dispatch_table or any(getattr(t, name, None) is not getattr(ModuleType, name, None)
                                          for name in _PICKLING_METHODS):
        return NotImplemented
    forking = sys.modules.get("multiprocessing.reduction")
    if forking is not None and t in forking.ForkingPickler._extra_reducers:
        return NotImplemented
    return _reduce_module(module)


_PICKLING_METHODS = ("__reduce_ex__", "__reduce__", "__getstate__", "__getnewargs__",
                     "__getnewargs_ex__")


class _TypeDict:
    """Pickles as its class's own __dict__ (getattr(cls, "__dict__"))."""

    __slots__ = ("cls",)

    def __init__(self, cls):
        self.cls = cls

    def __reduce__(self):
        return getattr, (self.cls, "__dict__")


def _reduce_classmethod_descriptor(obj):
    """float.__dict__["fromhex"] as the very descriptor, looked up in its
    class's __dict__ (CPython 3.10.8 dropped the reducer that gave the bound
    method instead, python/cpython#95196; cloudpickle 2.2 has none)."""
    return operator.getitem, (_TypeDict(obj.__objclass__), obj.__name__)


def _cloudpickle_reducer(name):
    """cloudpickle's own reducer called name, imported when first used."""
    def reduce(obj):
        return _cloud.attr(name)(obj)
    reduce.__name__ = name
    return reduce


def _reduce_wrapper(obj):
    return type(obj), (obj.__func__,)


def _reduce_property(obj):
    return type(obj), (obj.fget, obj.fset, obj.fdel, obj.__doc__)


def _reduce_mappingproxy(obj):
    return MappingProxyType, (dict(obj),)


def _reduce_getset(obj):
    if vars(obj.__objclass__).get(obj.__name__) is not obj:  # 3.15: one for every class
        return _receive.shared_descriptor, (obj.__name__,)
    return getattr, (obj.__objclass__, obj.__name__)


def _reduce_method(method):
    """A bound method as multiprocessing sends it, getattr(self, name),
    wherever that finds this very method (the same bytes as without cpmp);
    else as cloudpickle sends it, its function bound to self: getattr would
    fail on a lambda set as a class attribute (named "<lambda>") or give
    another function (a subclass's override, an instance attribute)."""
    func, obj = method.__func__, method.__self__
    name = getattr(func, "__name__", None)
    if isinstance(name, str):
        try:
            found = getattr(obj, name)
        except AttributeError:
            found = None
        except Exception:  # a lookup that raises: we cannot tell, as before cpmp
            return getattr, (obj, name)
        if type(found) is MethodType and found.__func__ is func and found.__self__ is obj:
            return getattr, (obj, name)
    return _receive.make_method, (func, obj)


def takes_over(t):
    """Whether cpmp's reducer for type t goes where the pickler's table
    would take one: a reducer the program registered itself, with
    multiprocessing or copyreg, wins, but not multiprocessing's own for
    bound methods, which ours replaces (it gives the same wherever that one
    is right).  _speedups.c's takes_over is its twin."""
    registered = _registry.get(t)
    if registered is not None:
        return registered is _method_reducer
    return t not in copyreg.dispatch_table


def _reduce_memoryview(obj):
    return bytes, (obj.tobytes(),)  # as cloudpickle sends it


def add_typevar():
    """Add the reducers of typing.TypeVar and its kin to REDUCERS once
    typing is loaded (never imported for them: a program without typing
    has no TypeVar to send)."""
    typing = sys.modules.get("typing")
    if getattr(getattr(typing, "__spec__", None), "_initializing", False):
        return False  # another thread is importing it: a later send adds them
    if typing is not None:
        REDUCERS.setdefault(typing.TypeVar, _typevar.reduce_typevar)
        for kind in _typevar.TYPING_KINDS:  # types from 3.10 on
            t = getattr(typing, kind, None)
            if isinstance(t, type):
                REDUCERS.setdefault(t, _typevar.reduce_typing)
    return typing is not None


def _view_reducer(kind, ordered):
    def reduce(obj):
        data = dict(obj) if kind == "items" else list(obj)
        return _receive.make_dict_view, (data, kind, ordered)
    return reduce


_d, _od = {}, OrderedDict()
# Only types the standard pickler cannot send at all, and bound methods
# (sent by name, as before, wherever the name finds the very method):
# adding them changes nothing that worked before.  (cloudpickle's, written
# here so that sending none of them never imports cloudpickle; those
# through _cloudpickle_reducer import it when first used.)  Not open
# files: they do not travel (README), as without cpmp.
EXTRA_REDUCERS = (
    (CodeType, _code.reduce_code),
    (CellType, _reduce_cell),
    (ModuleType, _reduce_module),
    (classmethod, _reduce_wrapper),
    (staticmethod, _reduce_wrapper),
    (abc.abstractclassmethod, _reduce_wrapper),
    (abc.abstractstaticmethod, _reduce_wrapper),
    (property, _reduce_property),
    (abc.abstractproperty, _reduce_property),
    (MappingProxyType, _reduce_mappingproxy),
    (GetSetDescriptorType, _reduce_getset),
    (MethodType, _reduce_method),
    (memoryview, _reduce_memoryview),
    (_wrappers.LRU, _wrappers.reduce_lru),  # by reference where python3 sends it so
    (weakref.WeakSet, _cloudpickle_reducer("_weakset_reduce")),
    (type(_d.keys()), _view_reducer("keys", False)),
    (type(_d.values()), _view_reducer("values", False)),
    (type(_d.items()), _view_reducer("items", False)),
    (type(_od.keys()), _view_reducer("keys", True)),
    (type(_od.values()), _view_reducer("values", True)),
    (type(_od.items()), _view_reducer("items", True)),
)
del _d, _od
if "__reduce__" not in vars(ClassMethodDescriptorType):  # CPython >= 3.10.8
    EXTRA_REDUCERS += ((ClassMethodDescriptorType, _reduce_classmethod_descriptor),)
# What reducer_override applies, by exact type, where the program has no
# reducer (takes_over): not in ForkingPickler's registry, which each pickler
# copies (4k instructions a send, a fifth of a def's).
REDUCERS = dict(EXTRA_REDUCERS)
_registry, _method_reducer = {}, None  # ForkingPickler's registry, from connect()


def connect(reduction):
    """Read multiprocessing's registry from now on (reduction: the loaded
    multiprocessing.reduction), before a pickler takes reducer_override."""
    global _registry, _method_reducer
    _registry = reduction.ForkingPickler._extra_reducers
    _method_reducer = getattr(reduction, "_reduce_method", None)
    if _c is not None:
        _c.set_reducers(REDUCERS, copyreg.dispatch_table, _registry, _method_reducer)


# --- the override ------------------------------------------------------------

def _py_reducer_override(obj):
    """Pure-Python twin of _speedups.reducer_override (used without it)."""
    t = type(obj)
    if t is FunctionType:
        return _send.reduce_function(obj)
    if issubclass(t, type):
        if t is not type and not takes_over(t):
            return NotImplemented  # the program's reducer for its metaclass
        return _send.reduce_class(obj)
    if isinstance(obj, ModuleType) and t is not ModuleType:
        return reduce_module_subclass(obj)
    reducer = REDUCERS.get(t)
    if reducer is not None and takes_over(t):
        return reducer(obj)
    return NotImplemented


def _load_speedups():
    """The C reducer_override, or (None, why not)."""
    if _mutation.KEEP_C_OUT:
        return None, "kept out by %s" % _mutation.KEEP_C_OUT
    try:
        from . import _speedups
    except ImportError as exc:
        return None, "not built or not loadable (%s)" % exc
    try:
        _speedups.set_hooks(_send.reduce_function, _send.reduce_class, reduce_module_subclass,
                            _resend.sent, _wire.EMPTY_CELL, _resend.PINNED, _resend.ENTRY)
    except (TypeError, ValueError) as exc:
        return None, "does not match this package (%s)" % exc
    if not hasattr(_speedups, "set_reducers") or not hasattr(_speedups, "lookup"):
        return None, "does not match this package (no set_reducers or lookup)"
    _speedups.set_tables(_cloud.OWN, _resend.by_reference)
    _resend.c_lookup = _speedups.lookup
    if hasattr(_speedups, "set_held"):
        _fallback.held_classes = {}
        _speedups.set_held(_fallback.held_classes, vars(_held), _fallback.MARKS,
                           _fallback.DESCRIPTORS, _resend.VALUE_TYPES, _fallback.KINDS,
                           _resend.holdable, _cloud.OWN)
    if hasattr(_speedups, "make_loader") and type(_receive.load_function) is FunctionType:
        _receive.load_function = _speedups.make_loader(  # payloads name it there
            _code._built, _receive._modules, _receive.module_globals, FunctionType, CellType,
            _receive.load_function, _receive.__name__)
    global _c
    _c = _speedups
    return _speedups.reducer_override, None


_c = None  # _speedups, when its reducer_override is the one
reducer_override, SPEEDUPS_PROBLEM = _load_speedups()
if reducer_override is None:
    reducer_override = _py_reducer_override
if isinstance(reducer_override, FunctionType):
    reducer_override = staticmethod(reducer_override)


def wrap_override(wrapper):
    """Make reducer_override wrapper(reducer_override), before any pickler
    takes it (tools/_trace: CPMP_TRACE).  Whether it was still in time."""
    global reducer_override
    if _pickler_class is not None:
        return False
    inner = reducer_override
    if isinstance(inner, staticmethod):
        inner = inner.__func__
    reducer_override = staticmethod(wrapper(inner))
    return True


# --- cpmp's own pickler, patched or not -----------------------------------

_pickler_class = None


def pickler_class():
    """multiprocessing's ForkingPickler with exactly what the patch adds,
    whether or not multiprocessing is patched (cpmp.dumps and cpmp.dump)."""
    global _pickler_class
    if _pickler_class is None:
        import multiprocessing.reduction

        connect(multiprocessing.reduction)
        __import__("typing")
        add_typevar()

        class Pickler(multiprocessing.reduction.ForkingPickler):
            def __init__(self, file, protocol=None, reducers=None, buffer_callback=None):
                if reducers:  # the caller's reducers win over cpmp's (read at __init__)
                    self.reducer_override = _deferring(reducer_override, frozenset(reducers))
                if buffer_callback is None:
                    super().__init__(file, protocol)
                else:  # ForkingPickler passes on positional arguments only
                    super().__init__(file, protocol, True, buffer_callback)
                if reducers:
                    self.dispatch_table.update(reducers)

        Pickler.reducer_override = reducer_override
        Pickler.__module__ = __name__
        _pickler_class = Pickler
    return _pickler_class


def deferring(registry):
    """reducer_override for a pickler whose class has a registry of its own:
    what that holds wins (multiprocessing's bound-method reducer aside)."""
    inner = override_function()

    def override(obj):
        registered = registry.get(type(obj))
        if registered is not None and registered is not _method_reducer:
            return NotImplemented
        return inner(obj)
    return override


def _deferring(override, types):
    """override, leaving objects of types to the pickler's table."""
    override = override_function()

    def deferring(obj):
        return NotImplemented if type(obj) in types else override(obj)
    return deferring


def override_function():
    """reducer_override as a pickler class hands it out."""
    found = reducer_override
    return found.__func__ if isinstance(found, staticmethod) else found


def dump(obj, file, reducers=None, protocol=None, buffer_callback=None):
    """cpmp.dump: a too deep object raises a PicklingError that says
    "recursion", as cloudpickle's does -- and is still a RecursionError,
    as without cpmp."""
    from . import _stash

    try:
        with _stash.inline():  # read anywhere, any time
            pickler_class()(file, protocol, reducers, buffer_callback).dump(obj)
    except RecursionError as exc:
        raise _DeepRecursion("cpmp: could not pickle the object: excessively deep "
                             "recursion required (%s)" % exc) from exc


class _DeepRecursion(pickle.PicklingError, RecursionError):
    pass


def dumps(obj, reducers=None, protocol=None, buffer_callback=None):
    buf = io.BytesIO()
    dump(obj, buf, reducers, protocol, buffer_callback)
    return buf.getvalue()


_by_value_class = None


def dumps_by_value(obj):
    """obj pickled by value even where a receiver may hold it (the fallback
    of a held reference, see _send.held_entry)."""
    global _by_value_class
    if _by_value_class is None:
        base = pickler_class()
        override = base.reducer_override

        class ByValue(base):
            def reducer_override(self, o):
                if o is self.root:
                    if type(o) is FunctionType:
                        return _send.reduce_function_by_value(o)
                    if isinstance(o, type):
                        return _send.reduce_class_by_value(o)
                    if type(o) is getattr(sys.modules.get("typing"), "TypeVar", None):
                        return _typevar.by_value(o)
                    if type(o) is _wrappers.LRU:
                        return _wrappers.lru_by_value(o)
                return override(o)

        _by_value_class = ByValue
    buf = io.BytesIO()
    pickler = _by_value_class(buf)
    pickler.root = obj
    pickler.dump(obj)
    return buf.getvalue()


# The modules below this one pickle nested parts with it.
_resend.dumps = dumps
_fallback.dumps_by_value = dumps_by_value
