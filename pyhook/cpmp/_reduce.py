"""What cpmp sends by value, and how the receiver rebuilds it.

The rule: whatever the standard pickler can send *and the receiver can
resolve* goes exactly as it does without cpmp.  Only these go by value:

* functions the receiver cannot look up by module and qualified name:
  lambdas, nested functions, functions defined inside the
  ``if __name__ == "__main__":`` block, and functions of a main module that a
  spawned child cannot re-import (``-c``, stdin, notebooks);
* classes in the same situation (handed to cloudpickle);
* a few object types the standard pickler refuses outright but which such
  functions and classes carry: code objects, cells, modules, classmethod,
  staticmethod, property, mappingproxy and dict views.

A function sent by value is rebuilt in the receiver on the *live* globals of
its module there, exactly like a top-level def: a worker's initializer that
sets a module global is seen by lambda tasks.  Globals the receiver's module
would not define by itself (names bound only inside the main block, or
anything of a ``-c`` script) travel with the function and are added to the
receiver's module if it lacks them, never overwriting what it has.
"""

import abc
import builtins
import functools
import marshal
import sys
import weakref
from types import (BuiltinFunctionType, CellType, CodeType, FunctionType, MappingProxyType,
                   ModuleType)

from . import _env_flag

_MAIN_NAMES = ("__main__", "__mp_main__")
_GLOBAL_OPS = frozenset(("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME"))


class _EmptyCell:
    """Stands for the contents of a cell that holds nothing yet."""

    __slots__ = ()

    def __reduce__(self):
        return "EMPTY_CELL"

    def __repr__(self):
        return "EMPTY_CELL"


EMPTY_CELL = _EmptyCell()


# --- deciding -------------------------------------------------------------

def _main_spawn_resolvable(module):
    """Whether a spawned child re-creates this __main__ module by itself.

    multiprocessing.spawn re-runs the parent's main module in a child when it
    has a spec name (python -m mod), but not for a package's __main__, or
    when it has a __file__ (python script.py).  (-c, stdin and notebooks
    have neither; stdin's "<stdin>" is not a file, and cpmp's spawn patch
    does not send it.)
    """
    spec = getattr(module, "__spec__", None)
    name = getattr(spec, "name", None)
    if name is not None:
        return not (name == "__main__" or name.endswith(".__main__"))
    path = getattr(module, "__file__", None)
    if path is None:
        return False
    import os

    return os.path.isfile(path)


def main_names(module):
    """What a spawned child's copy of this main module defines by itself:
    False when the child has no copy, None when the source is unknown
    (trust the module, as the standard pickler does), else the names its
    top level binds outside the main block."""
    if not _main_spawn_resolvable(module):
        return False
    return _toplevel_names(module)


_toplevel_cache = {}


def _toplevel_names(module):
    """Names the module binds at top level outside its main block, or None.

    These are the names a process that imports the module defines by
    itself.  None means the source could not be read.  Cached for the life
    of the process, like the module itself.
    """
    path = getattr(module, "__file__", None)
    if path is None:
        return frozenset()
    try:
        return _toplevel_cache[path]
    except KeyError:
        pass
    except TypeError:
        return None
    try:
        import ast

        with open(path, "rb") as f:
            names = frozenset(_bound_names(ast.parse(f.read(), path).body))
    except (OSError, SyntaxError, ValueError):
        names = None
    _toplevel_cache[path] = names
    return names


def _is_main_guard(test):
    import ast

    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def _bound_names(statements):
    import ast

    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    for stmt in statements:
        if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
            yield from _bound_names(stmt.orelse)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield stmt.name
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name != "*":
                    yield alias.asname or alias.name.partition(".")[0]
            continue
        todo = [stmt]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id
            elif isinstance(node, ast.stmt) and node is not stmt:
                yield from _bound_names([node])
                continue
            elif isinstance(node, scopes):
                continue
            todo.extend(ast.iter_child_nodes(node))


def _names_from_env():
    """CPMP_BY_VALUE: comma-separated module names (cpmp run --by-value sets
    it, so spawned children and preloaded processes see it too)."""
    import os

    names = set()
    for name in filter(None, os.environ.get("CPMP_BY_VALUE", "").split(",")):
        if all(part.isidentifier() for part in name.split(".")):
            names.add(name)
        elif not _env_flag("CPMP_QUIET"):
            sys.stderr.write("cpmp: CPMP_BY_VALUE: %r is not a module name, ignored\n" % name)
    return names


# Modules named by CPMP_BY_VALUE / --by-value (a set the C fast path reads).
BY_VALUE_NAMES = _names_from_env()


def _named_by(names, modname):
    return modname in names or any(modname.startswith(m + ".") for m in names)


def by_value_module(modname):
    """Whether modname's functions and classes go by value: named in
    CPMP_BY_VALUE, or registered with cloudpickle.register_pickle_by_value()
    (which cpmp.register_by_value calls)."""
    if BY_VALUE_NAMES and _named_by(BY_VALUE_NAMES, modname):
        module = sys.modules.get(modname)
        if module is not None:
            # cloudpickle sends classes; it must know the module too.
            _cloudpickle_register(module)
        return True
    cp = sys.modules.get("cloudpickle.cloudpickle")
    registered = getattr(cp, "_PICKLE_BY_VALUE_MODULES", None)
    return bool(registered) and _named_by(registered, modname)


def _cloudpickle_register(module):
    try:
        import cloudpickle
    except ImportError:
        return  # functions still go by value; a class will say what is missing
    try:
        cloudpickle.register_pickle_by_value(module)
    except ValueError:
        pass  # already registered, or a submodule of one


def by_value_reason(obj, is_function):
    """Why obj must go by value -- the receiver could not look it up -- in a
    few words, or None when it goes by reference.  (The pure-Python twin of
    _speedups.needs_value; the trace reports the words.)"""
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(qualname, str):
        return None
    if is_function and "<" in qualname:  # <lambda>, <locals>
        return "defined inside a function"
    modname = getattr(obj, "__module__", None)
    if not isinstance(modname, str):
        return None
    if by_value_module(modname):
        return "of a by-value module"
    module = sys.modules.get(modname)
    if module is None:
        return None  # the pickler imports it, as it always has
    found = module
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:
        return "not found under its name"
    if found is not obj:
        return "not found under its name"
    if modname in _MAIN_NAMES:
        names = main_names(module)
        if names is False:
            return "of a main module workers cannot import"
        if names is not None and qualname.partition(".")[0] not in names:
            return "of the main block"
    return None


def _needs_value(obj, is_function):
    """True when obj must go by value: the receiver could not look it up."""
    return by_value_reason(obj, is_function) is not None


# --- functions ------------------------------------------------------------

_code_names_cache = weakref.WeakKeyDictionary()


def _code_globals(code):
    """Global names the code (and code nested in it) reads or writes."""
    names = _code_names_cache.get(code)
    if names is None:
        import dis

        found = set()
        todo = [code]
        while todo:
            co = todo.pop()
            for ins in dis.get_instructions(co):
                if ins.opname in _GLOBAL_OPS:
                    found.add(ins.argval)
            todo.extend(c for c in co.co_consts if isinstance(c, CodeType))
        names = frozenset(found)
        _code_names_cache[code] = names
    return names


def _code_attr_names(code):
    found = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, CodeType):
            found |= _code_attr_names(c)
    return found


def _module_globals_name(func):
    """The name of the module whose live dict is func's globals, or None:
    globals that are no module's, or a module registered to go by value
    (its workers cannot import it, so its globals travel with the function)."""
    g = func.__globals__
    name = g.get("__name__")
    if isinstance(name, str):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__dict__", None) is g:
            return None if by_value_module(name) else name
    return None


def _submodule_imports(code, shipped):
    """Loaded submodules of shipped packages that the code reaches into.

    A function that uses xml.etree through a global `xml` needs xml.etree
    imported in the receiver too.
    """
    imports = []
    attrs = None
    for value in shipped.values():
        if type(value) is not ModuleType or not hasattr(value, "__path__"):
            continue
        prefix = value.__name__ + "."
        for name in list(sys.modules):
            if name.startswith(prefix):
                if attrs is None:
                    attrs = _code_attr_names(code)
                if all(p in attrs for p in name[len(prefix):].split(".")):
                    imports.append(name)
    return tuple(imports)


def _function_parts(func):
    """(make_function args, set_function_state state) for func, read now."""
    code = func.__code__
    g = func.__globals__
    gname = _module_globals_name(func)
    if gname is None:
        known = frozenset()
    elif gname in _MAIN_NAMES:
        # No copy in a spawned child, or a source we cannot read: ship all.
        known = main_names(sys.modules[gname]) or frozenset()
    else:
        known = _toplevel_names(sys.modules[gname])
    if known is None:
        shipped = None
    else:
        shipped = {n: g[n] for n in _code_globals(code) if n not in known and n in g} or None
    closure = func.__closure__
    if closure is None:
        ncells = -1
        cells = ()
    else:
        ncells = len(closure)
        cells = tuple(_cell_value(c) for c in closure)
    state = (
        func.__name__,
        func.__qualname__,
        func.__module__,
        func.__doc__,
        func.__defaults__,
        func.__kwdefaults__,
        func.__annotations__ or None,
        func.__dict__ or None,
        cells,
        shipped,
        _submodule_imports(code, shipped) if shipped else (),
        getattr(func, "__type_params__", ()) or None,
    )
    return (code, gname, ncells), state


def reduce_function(func):
    entry = _sent.get(id(func))
    if entry is not None and _entry_matches(entry, func):
        return entry[-1]
    args, state = _function_parts(func)
    if _frozen_state(state):
        entry = _sent[id(func)] = _sent_entry(func, args, state)
        return entry[-1]
    return (make_function, args, state, None, None, set_function_state)


# --- sending the same function again ----------------------------------------
#
# imap(f, data, chunksize=1) sends f once per item.  When everything f
# carries is immutable (numbers, strings, tuples of them, modules and
# functions or classes sent by reference), the sender pickles it once and
# sends those bytes again as long as every cell, default and shipped global
# is still the very same object; the receiver rebuilds it once per distinct
# bytes.  Anything mutable (a list in a cell, a non-empty __dict__) is read
# and sent afresh every time, so nothing is ever sent stale.

_ATOMS = frozenset((int, float, complex, str, bytes, bool, type(None), type(Ellipsis),
                    range, BuiltinFunctionType))


def _frozen(value):
    t = type(value)
    if t in _ATOMS:
        return True
    if t is tuple or t is frozenset:
        return all(_frozen(v) for v in value)
    if t is ModuleType:
        return sys.modules.get(value.__name__) is value
    if t is FunctionType:
        return not _needs_value(value, True)
    if isinstance(value, type):
        return not _needs_value(value, False)
    return False


def _frozen_state(state):
    (name, qualname, module, doc, defaults, kwdefaults, annotations, fdict,
     cells, shipped, imports, type_params) = state
    return (fdict is None and type_params is None
            and _frozen((defaults, cells))
            and (kwdefaults is None or _frozen(tuple(kwdefaults.items())))
            and (annotations is None or _frozen(tuple(annotations.items())))
            and (shipped is None or _frozen(tuple(shipped.values()))))


# An entry pins by identity what the bytes were made from; the C fast path
# (_speedups.cached_reduce) reads it by position, so keep the two in step.
_PINNED = ("__code__", "__name__", "__qualname__", "__module__", "__doc__", "__defaults__")


_STATE_FIELDS = ("name", "qualname", "module", "doc", "defaults", "kwdefaults",
                 "annotations", "dict", "cells", "shipped", "imports", "type_params")


def _compact(func, args, state):
    """The smallest marshal bytes the receiver can rebuild func from, or
    None when something in it is not marshal-able (a module, say).

    With imap(chunksize=1) each task's size is most of its cost (240 more
    bytes a task make a Pool ~30 % slower), so: marshal, not pickle; only
    the attributes a fresh function would not have anyway; the code itself
    replaced by where the receiver's own copy of the module keeps it, when
    it has one (see _code_location); else the code's file name left out when
    it is the module's own __file__, which the receiver has too.
    """
    code, gname, ncells = args
    probe = make_function(code, None, ncells)
    probe.__module__ = gname
    extras = {}
    for field, value in zip(_STATE_FIELDS, state):
        if field in ("name", "qualname", "doc"):
            if value != getattr(probe, "__%s__" % field):
                extras[field] = value
        elif field == "module":
            if value != gname:
                extras[field] = value
        elif field == "cells":
            if ncells > 0:
                extras[field] = value
        elif value is not None and value != ():
            extras[field] = value
    module = sys.modules.get(gname) if gname is not None else None
    located = _code_location(func, module)
    if located is not None:
        code = located
    else:
        path = getattr(module, "__file__", None)
        if path is not None and code.co_filename == path:
            code = _renamed(code, path, "")
    try:
        return marshal.dumps((code, gname, ncells, extras or None))
    except ValueError:
        return None


def _code_location(func, module):
    """Where the receiver finds func's code without being sent it, or None.

    A lambda or nested def lives as a constant in the code of the function
    that encloses it.  When that enclosing function is one the receiver
    looks up by name (a top-level def of a module it imports, or of a main
    script a spawned child re-runs), the receiver's copy holds the same code
    object: send (enclosing qualname, index path, first line, crc32 of the
    bytecode) instead, about 30 bytes for 100 and more.
    """
    if module is None:
        return None
    outer_name = func.__qualname__.split(".<locals>.", 1)[0]
    if outer_name == func.__qualname__ or "<" in outer_name:
        return None
    try:
        outer = module
        for part in outer_name.split("."):
            outer = getattr(outer, part)
    except AttributeError:
        return None
    outer = getattr(outer, "__func__", outer)  # classmethod, staticmethod
    if type(outer) is not FunctionType or _needs_value(outer, True):
        return None
    path = _const_path(outer.__code__, func.__code__)
    if path is None:
        return None
    import binascii

    code = func.__code__
    return (outer_name, path, code.co_firstlineno, binascii.crc32(code.co_code))


def _const_path(outer, code):
    for i, const in enumerate(outer.co_consts):
        if const is code:
            return (i,)
        if isinstance(const, CodeType):
            rest = _const_path(const, code)
            if rest is not None:
                return (i,) + rest
    return None


def _locate_code(module, location):
    """The code object _code_location described, from this process's copy."""
    outer_name, path, firstlineno, crc = location
    import binascii

    try:
        found = module
        for part in outer_name.split("."):
            found = getattr(found, part)
        code = getattr(found, "__func__", found).__code__
        for i in path:
            code = code.co_consts[i]
        if code.co_firstlineno == firstlineno and binascii.crc32(code.co_code) == crc:
            return code
    except (AttributeError, IndexError):
        pass
    import pickle

    raise pickle.UnpicklingError(
        "cpmp: %s in module %r is not the code the sender has (was the file "
        "changed while the program ran?)" % (outer_name, getattr(module, "__name__", None)))


def _renamed(code, old, new):
    """code, and the code nested in it, with co_filename old made new."""
    consts = tuple(_renamed(c, old, new) if isinstance(c, CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=new if code.co_filename == old else code.co_filename,
                        co_consts=consts)


def _sent_entry(func, args, state):
    (name, qualname, module, doc, defaults, kwdefaults, annotations, fdict,
     cells, shipped, imports, type_params) = state
    blob = _compact(func, args, state)
    if blob is not None:
        reduce = (load_function, (blob,))
    else:
        blob = dumps((args, state))
        reduce = (load_pickled_function, (blob,))
    # The callback holds the dict itself: at interpreter exit, module globals
    # may already be None when the last functions die (seen on 3.10).
    forget = functools.partial(_sent.pop, id(func), None)
    # Copies: the function's own dicts can change in place.
    return (weakref.ref(func, lambda ref: forget()),
            *(getattr(func, a) for a in _PINNED),
            kwdefaults and dict(kwdefaults), annotations and dict(annotations), cells,
            tuple(shipped.items()) if shipped else (),
            reduce)


def _entry_matches(entry, func):
    """Whether func would still pickle to the entry's bytes (by identity).
    The pure-Python twin of _speedups' cached_reduce."""
    if entry[0]() is not func or func.__dict__:
        return False
    n = len(_PINNED)
    if any(getattr(func, a) is not v for a, v in zip(_PINNED, entry[1:1 + n])):
        return False
    kwdefaults, annotations, cells, shipped = entry[1 + n:5 + n]
    if (func.__kwdefaults__ or None) != kwdefaults or (func.__annotations__ or None) != annotations:
        return False
    if any(_cell_value(c) is not v for c, v in zip(func.__closure__ or (), cells)):
        return False
    g = func.__globals__
    return all(g.get(k, EMPTY_CELL) is v for k, v in shipped)


_sent = {}  # id(function) -> _SentFunction
_received = {}  # pickled bytes -> function
_RECEIVED_MAX = 256


def _remember(cache, limit, key, value):
    """Keep value under key in a receiver-side cache of at most limit
    entries (emptied when full: a program sends few distinct functions)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def load_function(blob):
    """Rebuild a function sent as compact marshal bytes (see _compact)."""
    func = _received.get(blob)
    if func is not None:
        return func
    code, gname, ncells, extras = marshal.loads(blob)
    if type(code) is tuple:
        code = _locate_code(_receiver_module(gname), code)
    elif not code.co_filename and gname is not None:
        code = _renamed(code, "", getattr(_receiver_module(gname), "__file__", ""))
    func = make_function(code, gname, ncells)
    extras = extras or {}
    state = tuple(extras.get(field, getattr(func, "__%s__" % field, None))
                  if field in ("name", "qualname", "module", "doc")
                  else extras.get(field, () if field in ("cells", "imports") else None)
                  for field in _STATE_FIELDS)
    return _remember(_received, _RECEIVED_MAX, blob, set_function_state(func, state))


def load_pickled_function(blob):
    """Rebuild a function sent as pickle bytes (state marshal cannot hold)."""
    func = _received.get(blob)
    if func is None:
        import pickle

        args, state = pickle.loads(blob)
        func = _remember(_received, _RECEIVED_MAX, blob,
                         set_function_state(make_function(*args), state))
    return func


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return EMPTY_CELL


def _receiver_module(gname):
    if gname == "__mp_main__" and gname not in sys.modules:
        gname = "__main__"
    return import_module(gname)


def _receiver_globals(gname):
    if gname is None:
        return {"__builtins__": builtins}
    return _receiver_module(gname).__dict__


def make_function(code, gname, ncells):
    """Rebuild a function on its module's live globals (a skeleton: the
    rest arrives in set_function_state, so recursive references work)."""
    closure = None if ncells < 0 else tuple(CellType() for _ in range(ncells))
    return FunctionType(code, _receiver_globals(gname), None, None, closure)


def set_function_state(func, state):
    (name, qualname, module, doc, defaults, kwdefaults, annotations, fdict,
     cells, shipped, imports, type_params) = state
    if imports:
        import importlib

        for modname in imports:
            importlib.import_module(modname)
    if shipped:
        g = func.__globals__
        for key, value in shipped.items():
            if key not in g:
                g[key] = value
    func.__name__ = name
    func.__qualname__ = qualname
    func.__module__ = module
    func.__doc__ = doc
    func.__defaults__ = defaults
    func.__kwdefaults__ = kwdefaults
    if annotations:
        func.__annotations__ = annotations
    if fdict:
        func.__dict__.update(fdict)
    if type_params:
        func.__type_params__ = type_params
    for cell, value in zip(func.__closure__ or (), cells):
        if value is not EMPTY_CELL:
            cell.cell_contents = value
    return func


# --- classes --------------------------------------------------------------

_class_reducer = None


def _cloudpickle_class_reducer():
    global _class_reducer
    if _class_reducer is None:
        import pickle

        try:
            import cloudpickle
        except ImportError as exc:
            from . import _install_fix

            raise pickle.PicklingError(
                "cpmp: sending a class by value needs cloudpickle, which this "
                "Python cannot import (%s)" % _install_fix()) from exc
        for name in ("cloudpickle.cloudpickle", "cloudpickle.cloudpickle_fast"):
            reducer = getattr(sys.modules.get(name), "_dynamic_class_reduce", None)
            if reducer is not None:
                break
        else:
            raise pickle.PicklingError(
                "cpmp: cloudpickle %s is too old to send classes by value; "
                "cpmp needs cloudpickle >= 1.6" % getattr(cloudpickle, "__version__", "?"))
        _class_reducer = reducer
    return _class_reducer


def reduce_class(cls):
    return _cloudpickle_class_reducer()(cls)


# --- objects the standard pickler refuses ----------------------------------

_code_bytes_cache = weakref.WeakKeyDictionary()
_code_loads_cache = {}
_CODE_LOADS_MAX = 512


def _reduce_code(code):
    data = _code_bytes_cache.get(code)
    if data is None:
        data = marshal.dumps(code)
        _code_bytes_cache[code] = data
    return load_code, (data,)


def load_code(data):
    """marshal is exact for code and fast; the same function sent again
    (imap with chunksize=1) reuses the code object built the first time."""
    code = _code_loads_cache.get(data)
    if code is None:
        code = _remember(_code_loads_cache, _CODE_LOADS_MAX, data, marshal.loads(data))
    return code


def _reduce_cell(cell):
    return make_cell, (_cell_value(cell),)


def make_cell(value=EMPTY_CELL):
    return CellType() if value is EMPTY_CELL else CellType(value)


def _reduce_module(module):
    name = module.__name__
    if sys.modules.get(name) is module:
        return import_module, (name,)
    state = {k: v for k, v in vars(module).items() if k != "__builtins__"}
    return make_module, (name, state)


def import_module(name):
    module = sys.modules.get(name)
    if module is None:
        import importlib

        module = importlib.import_module(name)
    return module


def make_module(name, state):
    module = ModuleType(name)
    module.__dict__.update(state)
    module.__dict__["__builtins__"] = builtins
    return module


def _reduce_wrapper(obj):
    return type(obj), (obj.__func__,)


def _reduce_property(obj):
    return type(obj), (obj.fget, obj.fset, obj.fdel, obj.__doc__)


def _reduce_mappingproxy(obj):
    return MappingProxyType, (dict(obj),)


def _reduce_dict_keys(obj):
    return make_dict_view, (list(obj), "keys")


def _reduce_dict_values(obj):
    return make_dict_view, (list(obj), "values")


def _reduce_dict_items(obj):
    return make_dict_view, (dict(obj), "items")


def make_dict_view(data, kind):
    if kind == "items":
        return data.items()
    if kind == "keys":
        return dict.fromkeys(data).keys()
    return dict(enumerate(data)).values()


_d = {}
# Only types the standard pickler cannot send at all: adding them changes
# nothing that worked before.
EXTRA_REDUCERS = (
    (CodeType, _reduce_code),
    (CellType, _reduce_cell),
    (ModuleType, _reduce_module),
    (classmethod, _reduce_wrapper),
    (staticmethod, _reduce_wrapper),
    (abc.abstractclassmethod, _reduce_wrapper),
    (abc.abstractstaticmethod, _reduce_wrapper),
    (property, _reduce_property),
    (abc.abstractproperty, _reduce_property),
    (MappingProxyType, _reduce_mappingproxy),
    (type(_d.keys()), _reduce_dict_keys),
    (type(_d.values()), _reduce_dict_values),
    (type(_d.items()), _reduce_dict_items),
)
del _d


# --- cpmp's own pickler, patched or not -----------------------------------

_pickler_class = None


def pickler_class():
    """multiprocessing's ForkingPickler with exactly what the patch adds,
    whether or not multiprocessing is patched (cpmp.dumps and cpmp.dump)."""
    global _pickler_class
    if _pickler_class is None:
        import multiprocessing.reduction

        class Pickler(multiprocessing.reduction.ForkingPickler):
            def __init__(self, file, protocol=None, reducers=None):
                super().__init__(file, protocol)
                for typ, reducer in EXTRA_REDUCERS:
                    self.dispatch_table.setdefault(typ, reducer)
                if reducers:
                    self.dispatch_table.update(reducers)

        Pickler.reducer_override = reducer_override
        Pickler.__module__ = __name__
        _pickler_class = Pickler
    return _pickler_class


def dumps(obj, reducers=None, protocol=None):
    import io

    buf = io.BytesIO()
    pickler_class()(buf, protocol, reducers).dump(obj)
    return buf.getvalue()


# --- the hot path -----------------------------------------------------------

_SPECIAL_TYPES = (type(None), type(NotImplemented), type(Ellipsis))


def _py_reducer_override(obj):
    """Pure-Python twin of _speedups.reducer_override (used without it)."""
    t = type(obj)
    if t is FunctionType:
        return reduce_function(obj) if _needs_value(obj, True) else NotImplemented
    if issubclass(t, type) and obj not in _SPECIAL_TYPES:
        return reduce_class(obj) if _needs_value(obj, False) else NotImplemented
    return NotImplemented


try:
    from . import _speedups
except ImportError:
    reducer_override = _py_reducer_override
else:
    _speedups.set_hooks(reduce_function, reduce_class, main_names, by_value_module,
                        _sent, EMPTY_CELL, BY_VALUE_NAMES)
    reducer_override = _speedups.reducer_override


# Decided once: with tracing off the pickler calls the override directly.
if _env_flag("CPMP_TRACE"):
    from . import _trace

    reducer_override = _trace.traced(reducer_override)
if isinstance(reducer_override, FunctionType):
    reducer_override = staticmethod(reducer_override)
