"""How the sender reduces what goes by value (see _policy for what does).

A function sent by value carries its code, its state (cells, defaults,
...), and the main-module names it reads that the receiver's module does
not bind itself: each either as the sender's value now ("shipped"), or as
a reference to the object a forked receiver holds ("held", see _held).
A main-module definition a forked receiver holds goes as such a reference
itself.  Classes go by value through cloudpickle's class reducer.
"""

import sys
import weakref
from types import FunctionType, ModuleType

from . import (_classes, _cloud, _cloud_class, _code, _globals, _held, _policy, _receive, _resend,
               _wire, _wrappers)
from . import _fallback as _fallback_mod


def _module_name(g):
    """The name of the module whose live dict g is, or None: globals that
    are no module's, or a module registered to go by value (its workers
    cannot import it, so its globals travel with the function)."""
    name = g.get("__name__")
    if isinstance(name, str):
        module = sys.modules.get(name)
        if module is not None and _globals.module_globals(module) is g:
            return None if _policy.by_value_module(name) else name
    return None


def sender_only(func):
    """(the module's name, or None: no module, and {name: value} of the
    globals func reads that the receiver's module does not bind itself, or
    None when the module's source is unknown: all are read live)."""
    g, seen = _receive.namespace_of(func)
    gname = _module_name(g)
    owned = _policy.module_owned(gname)
    if seen:
        # A function received by value, sent on: what it saw arrives too.
        g = dict(g, **seen)
    if owned is None:
        return gname, None
    names = _code.code_names(func.__code__)[0]
    # __builtins__ is the receiver's own, whatever the sender's is.
    return gname, {n: g[n] for n in names if n not in owned and n in g and n != "__builtins__"}


def split_globals(func):
    """(gname, shipped, held) for func sent by value now."""
    gname, values = sender_only(func)
    if not values:
        return gname, None, None
    shipped, held = {}, {}
    for name, value in values.items():
        entry = held_entry(value) if gname is not None else None
        if entry is None:
            shipped[name] = value
        else:
            held[name] = entry
    return gname, shipped or None, held or None


# --- held references ---------------------------------------------------------

_BY_NAME = (ModuleType,)
immutable = _resend.immutable


def held_entry(value, reason=None):
    """(key, checks, fallback) when a forked receiver may hold value itself,
    else None (it goes by value).  checks: for a definition, what every
    main-module name it reads (through the functions it reaches) must be
    bound to in the receiver for its own copy to be the sender's (see
    _definition_checks); fallback: value pickled by value, which always
    travels, or None when it cannot be pickled at all (an inherited lock):
    a receiver that does not hold it then gets the error naming it."""
    if isinstance(value, _BY_NAME) or immutable(value):
        return None
    key = _held.key_of(value)
    if key is None:
        return None
    checks = ()
    if type(value) is FunctionType or isinstance(value, type):
        if reason is None:
            reason = _policy.by_value_reason(value, type(value) is FunctionType)
        if reason not in _policy.HOLDABLE:
            return None  # by reference or not found: the pickler decides
        made = _fallback_mod.current(value)
        memo = made is not None and made[2]
        if memo and memo[0] == _held.pin_serial() and memo[1] is _main_globals(value):
            return key, memo[2], _fallback(value, made)
        checks = _definition_checks(value)
        if checks is None:
            return None
        fallback = _fallback(value, made)
        made = _fallback_mod.current(value) if made is None else made
        if made is not None:
            # The same objects read the same names bound to the same
            # values: every value the checks name is one a _resend entry
            # of a function it reaches holds, immutable or by reference
            # (else there is no record), and only a fork pins more.
            made[2] = (_held.pin_serial(), _main_globals(value), checks)
        return key, checks, fallback
    elif _wrappers.wrapped(value) is not None:
        checks = _wrapper_checks(_wrappers.wrapped(value))
        if checks is None:
            return None
    elif type(value) is _wrappers.LRU:
        return None  # its function unknown: by name, as python3 sends it
    elif type(value).__flags__ & _HEAPTYPE:
        # An instance is the receiver's own only where its class is too: an
        # instance of the receiver's class beside the sender's class sent by
        # value would fail isinstance and except clauses.
        # (Only a main-module class: a C type the pickler cannot name, a
        # _thread.lock, is no class the sender would send by value here.)
        cls = type(value)
        reason = _policy.by_value_reason(cls, False)
        if reason in _policy.HOLDABLE:
            entry = held_entry(cls, reason)
            if entry is None:
                return None
            checks = entry[1]
    return key, checks, _fallback(value)


def _wrapper_checks(inner):
    """A wrapper of a main-module function is the receiver's own only where
    that function would be (_wrappers): its checks, pinned or not (an
    lru_cache'd def's function is the wrapper's only, not found under its
    name), or None: a lambda or a local def never behaves as a held one."""
    if _policy.by_value_reason(inner, type(inner) is FunctionType) is None:
        return ()
    if getattr(inner, "__module__", None) not in _policy.MAIN_NAMES or "<" in inner.__qualname__:
        return None
    return _definition_checks(inner)


def held_reduce(obj, entry):
    """A main-module object (a definition, a TypeVar) as a reference to the
    receiver's own."""
    key, checks, fallback = entry
    if type(obj) is FunctionType:
        return _receive.load_held, (key, checks, fallback, obj.__qualname__)
    return _receive.load_held, (key, checks, fallback)


def _reached_functions(obj, main_globals, seen):
    """The functions of the main module that obj runs when called: itself,
    the functions in its closure (a functools.wraps wrapper), a class's
    methods, and the main-module functions and classes those read."""
    todo = [obj]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, type):
            # Its bases and metaclass of the same module: what a receiver's
            # copy inherits must be the sender's too.
            module = item.__module__
            todo.extend(c for c in item.__mro__[1:] + (type(item),)
                        if getattr(c, "__module__", None) == module)
            for attr in list(vars(item).values()):
                attr = getattr(attr, "__func__", attr)  # classmethod, staticmethod
                if isinstance(attr, property):
                    todo.extend(f for f in (attr.fget, attr.fset, attr.fdel) if f is not None)
                elif type(attr) is FunctionType:
                    todo.append(attr)
            continue
        if type(item) is not FunctionType:
            continue
        for cell in item.__closure__ or ():
            inner = _wire.cell_value(cell)
            if type(inner) is FunctionType or isinstance(inner, type):
                todo.append(inner)
            elif type(inner) is dict:  # a table of them: singledispatch's registry
                todo.extend(x for pair in list(inner.items()) for x in pair
                            if type(x) is FunctionType or isinstance(x, type))
        if item.__globals__ is main_globals:
            yield item


def _main_globals(obj):
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    return None if module is None else _globals.module_globals(module)


def _definition_checks(obj):
    """What a receiver's copy of the main-module definition obj needs to
    behave as the sender's: (name, _KEY, key) or (name, _VALUE, value) for
    every main-module name read by the functions it reaches, or None when
    one of them cannot be held (an object created since the last fork).

    A name bound to a held object is checked by key, to a small immutable
    value by value.  A list, dict or other object that takes no weak
    reference cannot be told apart from the one the receiver inherited
    without keeping it alive, nor a large string or bytes without sending
    it whole: the receiver need only bind the name, and reads its own, as
    python3 reads it."""
    main_globals = _main_globals(obj)
    if main_globals is None:
        return ()
    checks, done, seen = [], set(), set()
    todo = [obj]
    while todo:
        for func in _reached_functions(todo.pop(), main_globals, seen):
            _, values = sender_only(func)
            for name, value in (values or {}).items():
                if name in done:
                    continue
                done.add(name)
                if immutable(value):
                    # A large one costs its size in every message, and is
                    # read in the receiver, as python3 reads it, like a list.
                    checks.append((name, _VALUE, value) if _small(value) else (name, _BOUND, None))
                    continue
                key = _held.key_of(value)
                if key is not None:
                    checks.append((name, _KEY, key))
                    if type(value) is FunctionType or isinstance(value, type):
                        todo.append(value)
                    continue
                if isinstance(value, _BY_NAME):
                    continue
                try:
                    weakref.ref(value)
                except TypeError:
                    # Read in the receiver, as python3 reads it, if bound there.
                    checks.append((name, _BOUND, None))
                    continue
                return None
    return tuple(checks)


def _small(value, budget=4096):
    """Whether an immutable value is small enough to travel in every
    message as a check (strings and bytes up to 4 KiB, tuples of those)."""
    if isinstance(value, (str, bytes)):
        return len(value) <= budget
    if type(value) is tuple or type(value) is frozenset:
        return len(value) <= 256 and all(_small(v, budget // 8) for v in value)
    return True


_KEY, _VALUE, _BOUND = _wire.KEY, _wire.VALUE, _wire.BOUND

_fallback = _fallback_mod.fallback

# --- functions ---------------------------------------------------------------

def function_parts(func):
    """((code, gname, ncells, shipped names, held), state) for func, read now."""
    gname, shipped, held = split_globals(func)
    closure = func.__closure__
    ncells = -1 if closure is None else len(closure)
    code = func.__code__
    state = {
        "name": func.__name__,
        "qualname": func.__qualname__,
        "module": func.__module__,
        "doc": func.__doc__,
        "defaults": func.__defaults__,
        "kwdefaults": func.__kwdefaults__,
    }
    annotations = _wire.annotations(func)
    if annotations:
        state["annotations"] = annotations
    if func.__dict__:
        state["dict"] = func.__dict__
    if closure:
        state["cells"] = tuple(_wire.cell_value(c) for c in closure)
    if shipped:
        state["shipped"] = shipped
    imports = _submodule_imports(code, tuple((shipped or {}).values()) + state.get("cells", ()))
    if imports:
        state["imports"] = imports
    type_params = getattr(func, "__type_params__", ())
    if type_params:
        state["type_params"] = type_params
    return (code, gname, ncells, tuple(shipped) if shipped else (), held), state


def _submodule_imports(code, values):
    """Loaded submodules of the packages among values (shipped globals, cell
    contents) that the code reaches into.

    A function that uses xml.etree through a global or a closure's `xml`
    needs xml.etree imported in the receiver too.
    """
    imports = []
    attrs = None
    for value in values:
        if type(value) is not ModuleType or not hasattr(value, "__path__"):
            continue
        prefix = value.__name__ + "."
        for name in list(sys.modules):
            if name.startswith(prefix):
                if attrs is None:
                    attrs = _code.attr_names(code)
                if all(p in attrs for p in name[len(prefix):].split(".")):
                    imports.append(name)
    return tuple(imports)


def reduce_function_by_value(func):
    cached = _resend.lookup(func)
    if cached is not None:
        return cached
    args, state = function_parts(func)
    return _resend.reduce(func, args, state)


def _reduce_definition(obj, is_function, by_value):
    """The reduce tuple for a function or class: NotImplemented when the
    standard pickler sends it by reference (_policy), a reference to what
    a forked receiver holds, or by_value(obj)."""
    reason = _policy.by_value_reason(obj, is_function)
    if reason is None:
        if is_function or obj.__flags__ & _HEAPTYPE:
            _resend.remember_by_reference(obj)
        else:
            _cloud.OWN.add(obj)  # a C type: its name and module cannot change
        return NotImplemented
    if reason in _policy.HOLDABLE:
        entry = held_entry(obj, reason)
        if entry is not None:
            reduce = held_reduce(obj, entry)
            if not is_function and _fallback_mod.held_classes is not None:
                _fallback_mod.remember_held_class(obj, entry, reduce)
            return reduce
    return by_value(obj)



def reduce_function(func):
    if (func in _cloud.OWN and _resend.registry_empty()) or _resend.goes_by_reference(func):
        return NotImplemented
    return _reduce_definition(func, True, reduce_function_by_value)


_cloud.own(_receive)
_cloud.own(_wrappers)
_wrappers.held_entry, _wrappers.held_reduce = held_entry, held_reduce


# --- classes -----------------------------------------------------------------

_SPECIAL_TYPES = (type(None), type(NotImplemented), type(Ellipsis))


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement


def reduce_class(cls):
    if cls in _SPECIAL_TYPES or (cls in _cloud.OWN and _resend.registry_empty()) \
            or _resend.goes_by_reference(cls):
        return NotImplemented
    return _reduce_definition(cls, False, reduce_class_by_value)


def reduce_class_by_value(cls):
    builtin = _cloud.attr("_BUILTIN_TYPE_NAMES").get(cls)
    if builtin is not None:
        return _receive.cloudpickle_call, ("_builtin_type", (builtin,))
    if not cls.__flags__ & _HEAPTYPE:
        return NotImplemented  # a C type cannot be rebuilt: the pickler says so, at send
    reduce = _cloud.attr("_dynamic_class_reduce")(cls)
    _classes.note_sent(cls)
    make, args, state, _, _, setstate = _cloud_class.corrected(cls, reduce)
    return (_classes.make_class, (make.__name__, args), state, None, None,
            _classes.set_class_state)


