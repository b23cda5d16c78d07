"""How the receiver rebuilds what cpmp sends by value (see _policy).

The public names of this module are written into pickles as
``__cpmp__.core._receive.NAME`` (``cpmp.core._receive.NAME`` where a
program imported the package itself; _wire says every form): renaming or
removing one breaks every payload that names it, so keep an alias.  Code
arrives through _code, which refuses code of another Python version.

A function is built afresh at each load, with its own cells, on the live
globals of its module in this process.  Names the sender's value must win
for (see _policy) are given to it without touching the module, through a
namespace of its own that reads everything else from the module, live
(_globals.namespace): the code nested in it, class bodies and eval see
the same names.
"""

import builtins
import marshal
import pickle
import sys
import weakref
from collections import OrderedDict
from types import CellType, FunctionType, MethodType, ModuleType

from . import _classes, _cloud, _globals, _held, _mutation, _stash, _wire
from ._code import (_built, _code_cache, code_names, load_code, load_code_in, plain_function,
                    remember_built)


EMPTY_CELL = _wire.EMPTY_CELL  # (named here by payloads of cpmp 0.1)
_MISSING = object()

# --- modules and held objects ----------------------------------------------

def import_module(name):
    module = sys.modules.get(name)
    if module is None:
        import importlib

        module = importlib.import_module(name)
    return module


def _receiver_module(gname):
    if gname == "__mp_main__" and gname not in sys.modules:
        gname = "__main__"
    return import_module(gname)


module_globals = _globals.module_globals


def namespace_of(func):
    """(the module dict func reads live, {name: value} it sees instead) for
    a function this module built; (func.__globals__, None) for any other."""
    g = func.__globals__
    live = _globals.live_of(g)
    if live is None:
        return g, None
    # All it got, even a value the module binds too now (it keeps the one
    # it got); not the module's own __name__, __spec__ and such.
    return live, {k: v for k, v in g.items()
                  if k not in ("__builtins__", "__warningregistry__")
                  and not (k[:2] == "__" == k[-2:] and live.get(k, _MISSING) is v)}


class NotHeld(pickle.UnpicklingError):
    pass


def _held_value(entry, name="an object"):
    """What a held entry (key, checks, fallback) stands for here: this
    process's own object when it holds it (and, for a definition, every
    main-module name it reads is bound here as in the sender), else the
    fallback loaded, else NotHeld."""
    key, checks, fallback = entry
    obj = _held.resolve(key, _MISSING)
    # This process pinned it: its own original, not a copy that may read
    # stale globals -- what a worker returns to its parent (helper-24: an
    # instance a worker made was of a copy of the parent's class).
    if obj is not _MISSING and checks and key[0] != _held.own_token():
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        if module is None or not _held.checks_hold(module_globals(module), checks):
            obj = _MISSING
    if obj is not _MISSING:
        return obj
    if fallback is not None:
        try:
            blob = _stash.read(fallback)
        except OSError as exc:
            # Not a closed pipe: the pool's worker would exit on it, silently.
            raise NotHeld("cpmp: %s of the sender's main module was sent in %s, which this "
                          "process cannot read (%s)" % (name, _stash.DIR, exc)) from None
        return pickle.loads(blob)
    raise NotHeld(
        "cpmp: %s of the sender's main module cannot be sent by value, and this process "
        "does not hold it (only a process forked from the sender after it was bound does)"
        % name)


def load_held(key, checks, fallback, name=None):
    """A main-module definition the sender expects this process to hold.
    name: a function's qualified name, for the stub that raises NotHeld
    when it is called (a class that is not held raises at once)."""
    try:
        return _held_value((key, checks, fallback), name or "a class")
    except NotHeld as exc:
        if name is None:
            raise
        return _unavailable(exc, name)


def _unavailable(exc, qualname):
    """A function that raises exc when called: what cannot be rebuilt here
    fails the task that calls it, never the process that loads it (a Pool
    worker that fails to load a task dies and is replaced, forever)."""
    def unavailable(*args, **kwargs):
        raise exc
    unavailable.__qualname__ = qualname
    unavailable.__name__ = qualname.rpartition(".")[2]
    return unavailable


# --- functions ---------------------------------------------------------------

# Skeletons make_function returned whose state set_function_state has not
# completed yet: {function: how its shipped names are to be given to it}.
# (The two run one after the other in one load: REDUCE, then BUILD; weak,
# so a load that fails between them leaves nothing behind.)
_building = weakref.WeakKeyDictionary()


def make_function(code, gname, ncells, names=(), held=None):
    """A skeleton of the function (set_function_state completes it, so
    recursive references work): its globals are decided here, from the
    names whose sender's value it must see (names: those arriving in the
    state; held: those resolved now)."""
    func, how = _build(code, gname, ncells, names, held)
    if how is not None:
        _building[func] = how
    return func


def _build(code, gname, ncells, names, held, module=None):
    """(function, how its state's shipped names are to be given to it);
    module: gname's module here, when the caller has it."""
    closure = None if ncells < 0 else tuple(CellType() for _ in range(ncells))
    try:
        values = {n: _held_value(e, "the global %r" % n) for n, e in held.items()} if held else {}
    except NotHeld as exc:
        return _unavailable(exc, code.co_name), ("stub", None)
    if gname is None:
        g = {"__builtins__": builtins}
        g.update(values)
        return FunctionType(code, g, None, None, closure), None
    live = module_globals(module if module is not None else _receiver_module(gname))
    own = values if _held.in_main_process() else {
        name: value for name, value in values.items() if live.get(name, _MISSING) is not value}
    if not own and not names:
        return FunctionType(code, live, None, None, closure), None
    if code_names(code)[1]:
        # It writes module globals: those writes must land in the module.
        _inject(live, own)
        return FunctionType(code, live, None, None, closure), ("inject", live)
    ns = _globals.namespace(live, own)
    return FunctionType(code, ns, None, None, closure), ("namespace", ns)


def _inject(live, values):
    """Bind values in the module: names it lacks, that cpmp bound there for
    an earlier send, or that it binds only as inherited from the sender's
    main block at the fork (which the sender has rebound since); never one
    this process bound itself."""
    mine = _held.injected.setdefault(id(live), set())
    for name, value in values.items():
        have = live.get(name, _MISSING)
        if name in mine or have is _MISSING or _held.inherited_binding(live, name, have):
            live[name] = value
            mine.add(name)


def set_function_state(func, state):
    """Complete a skeleton from make_function.  state: a dict with any of
    name, qualname, module, doc, defaults, kwdefaults, annotations,
    type_params, dict, cells, shipped, imports (absent: what a fresh
    function of that code has)."""
    how = _building.pop(func, None) if _building else None
    return _complete(func, how, state)


_ATTRS = _wire.FUNCTION_STATE


def _complete(func, how, state):
    for key, value in state.items():
        attr = _ATTRS.get(key)
        if attr is not None:
            setattr(func, attr, value)
        elif key == "cells":
            for cell, item in zip(func.__closure__ or (), value):
                if item is not EMPTY_CELL:
                    cell.cell_contents = item
        elif key == "shipped":
            _give(func, how, value)
        elif key == "dict":
            func.__dict__.update(value)
        elif key == "imports":
            import importlib

            for modname in value:
                importlib.import_module(modname)
    return func


def _give(func, how, shipped):
    """Give func the sender's values of shipped names, as _build decided."""
    if how is None:
        func.__globals__.update(shipped)  # no module: globals are its own
    elif how[0] == "inject":
        _inject(how[1], shipped)
    elif how[0] != "stub":
        ns = how[1]
        live = None if _held.in_main_process() else _globals.live_of(ns)
        for name, value in shipped.items():
            if live is None or not _held.is_live(live, name, value):
                ns[name] = value


_CELLS_ONLY = frozenset(("cells",))
_modules = sys.modules


def load_function(code_blob, rest):
    """A function sent as marshal bytes: its code, and (module, number of
    cells, state, held globals) -- see _resend.compact."""
    # The same payload again (imap with chunksize=1), its module's file the
    # same: what the lines below made of it the first time (_code.built),
    # plain_function's work done here, a call fewer (a remembered cell
    # holds an immutable value, never EMPTY_CELL).
    made = _built.get((code_blob, rest))
    if made is not None:
        module = _modules.get(made[0])
        if module is not None and getattr(module, "__file__", None) is made[2]:
            cells = made[3]
            func = FunctionType(made[1], module_globals(module), None, None,
                                None if cells is None else tuple(map(CellType, cells)))
            func.__module__ = made[0]
            return func
    # (Nothing is remembered while a mutation is planted.)
    if _mutation.REUSED and (code_blob, rest) in _mutation.REUSED:
        return _mutation.REUSED[(code_blob, rest)]
    gname, ncells, state, held = marshal.loads(rest)
    # (sys.modules and the code cache looked up here first: two calls fewer
    # in every load, a tenth of its cost.)
    module = None if gname is None else _modules.get(gname) or _receiver_module(gname)
    code = _code_cache.get(code_blob) or load_code(code_blob)
    if not code.co_filename and module is not None:
        code = load_code_in(code_blob, getattr(module, "__file__", None) or "")
    if not held and module is not None and not _mutation.ACTIVE and (
            not state and ncells < 0 or state.keys() <= _CELLS_ONLY
            and len(state.get("cells", ())) == ncells):
        # A lambda, def or closure reading only names its module binds:
        # what _build and _complete would make of it, for a third of a
        # load's cost.
        cells = state.get("cells", ()) if ncells >= 0 else None
        remember_built((code_blob, rest), gname, code, module, cells)
        return plain_function(code, module, gname, cells)
    shipped = state.get("shipped")
    names = _held.shipped_names(shipped, module_globals(module) if module is not None else {}) \
        if shipped else ()
    func, how = _build(code, gname, ncells, names, held, module)
    if "module" not in state:
        state["module"] = gname
    func = _complete(func, how, state)
    return _mutation.received((code_blob, rest), func) if _mutation.ACTIVE else func


def load_pickled_function(blob):
    """A function sent as pickle bytes (state marshal cannot hold), pickled
    once by the sender and sent again unchanged (see _resend)."""
    args, state = pickle.loads(blob)
    return set_function_state(make_function(*args), state)


# Classes (_classes), under the names payloads of cpmp 0.1 gave them.
make_class, set_class_state = _classes.make_class, _classes.set_class_state

# --- other objects the standard pickler refuses ------------------------------

def cloudpickle_call(name, args):
    """cloudpickle's helper called name, applied to args: the payload names
    it, so that this process imports cloudpickle as cpmp does (_cloud),
    never pickle's way, from a -c program's current directory."""
    return _cloud.attr(name)(*args)


def make_typing(kind, name, args, kwargs, module, tracker=None):
    """A typing.ParamSpec, TypeVarTuple or NewType sent by value
    (_typevar.reduce_typing): the one made from tracker before, if this
    process still has it, so that sending it back and forth keeps its
    identity, as cloudpickle keeps a TypeVar's."""
    import typing

    if kind not in ("ParamSpec", "TypeVarTuple", "NewType"):
        raise pickle.UnpicklingError("cpmp: no typing form %r" % (kind,))
    obj = typing_objects.get(tracker) if tracker is not None else None
    if obj is not None:
        return obj
    obj = getattr(typing, kind)(name, *args, **kwargs)
    try:
        obj.__module__ = module
    except (AttributeError, TypeError):
        pass  # a C type that keeps the module it was made in
    if tracker is not None:
        typing_objects[tracker] = obj
        typing_trackers[obj] = tracker
    return obj


# Both ways between the typing objects sent or made by value and their
# trackers (a random hex string): weak, as cloudpickle's class tracker.
typing_objects = weakref.WeakValueDictionary()
typing_trackers = weakref.WeakKeyDictionary()


class _Plain:
    pass


def shared_descriptor(name):
    """A class's __dict__ or __weakref__ descriptor where every class has
    the same one, whose __objclass__ is object (3.15)."""
    return vars(_Plain)[name]


def make_cell(value=EMPTY_CELL):
    return CellType() if value is EMPTY_CELL else CellType(value)


def make_method(func, obj):
    """func bound to obj: types.MethodType, which has no name pickle could
    find it by (without cloudpickle's _builtin_type)."""
    return MethodType(func, obj)


def make_module(name, state):
    module = ModuleType(name)
    module.__dict__.update(state)
    module.__dict__["__builtins__"] = builtins
    return module


def make_dict_view(data, kind, ordered=False):
    if kind == "items":
        return (OrderedDict(data) if ordered else data).items()
    if kind == "keys":
        return (OrderedDict if ordered else dict).fromkeys(data).keys()
    return (OrderedDict if ordered else dict)(enumerate(data)).values()


def dataclass_field_type(name):
    """One of dataclasses' field-kind markers (_FIELD, _FIELD_CLASSVAR,
    _FIELD_INITVAR), which dataclasses.fields() compares by identity."""
    import dataclasses

    return getattr(dataclasses, name)
