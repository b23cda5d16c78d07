"""What goes by value, and what a function sent by value sees: the one home
of cpmp's semantic model.  Every other module asks this one.

1. What the standard pickler sends by reference still goes by reference.
   A function or class goes by value only when the receiver could not look
   it up by module and qualified name: lambdas, nested functions and local
   classes; definitions of the main block (``if __name__ == "__main__":``);
   definitions of a main module a spawned child cannot re-create (``-c``,
   stdin, notebook cells); definitions of modules registered by value
   (``--by-value``, ``cpmp.register_by_value``).  Class objects the
   standard pickler cannot name (``types.MappingProxyType`` and other
   builtin types) go as cloudpickle sends them.

2. A main-module definition (point 1) that a forked receiver already holds
   -- it was forked after the definition was bound, and the name still
   binds that object -- goes as a reference to the receiver's own object
   (see _held): identity, ``isinstance`` and ``is`` keep working, exactly
   as the standard pickler's by-reference send does under fork (which
   also means that a change the sender makes to the object itself after
   the fork, a new ``__defaults__`` or ``__code__``, is not seen there, as
   under python3).  So is an lru_cache wrapper or a partial of such a
   definition, checked as the definition is (_wrappers).  The receiver's copy then
   reads the receiver's globals, so it is used only where every
   main-module name the functions it reaches read (its own, those in its
   closure, a class's methods) is bound there as in the sender: the same
   held object, or an equal immutable value.  A name bound to a list, dict
   or other object that takes no weak reference cannot be told from the
   one the receiver inherited without keeping it alive, nor a string or
   bytes over 4 KiB without sending it whole in every message; the
   receiver need only bind it, and reads its own, as python3 does.  A
   fallback of 1 MiB or more travels as the name of a file in /dev/shm
   holding it (_stash).  Anyone else gets the
   definition by value: the value always travels with the reference, so
   every reader -- workers started later, siblings, ``os.fork`` children,
   a Manager's server, spawned processes, the sender itself -- can rebuild
   every message.

3. A function sent by value reads its module's globals like this:

   * a name the receiver's module binds itself (for a main script: what its
     top level binds outside the main block, which is all a spawned child
     runs) is looked up *live* in the receiver's real module namespace, as
     a top-level def would: an initializer's rebinding is seen, under every
     start method;
   * any other name it reads (bound in the main block, in ``-c`` code, in a
     notebook cell, or at run time) arrives with the sender's value at the
     time of that send, every send -- unless it is an object that takes a
     weak reference and the receiver holds that very object (see _held),
     which is then used: locks, shared values and open files inherited
     through fork keep working.  A list, dict or number always arrives as
     the sender's value.  Those names never overwrite anything in the
     receiver's module: each received function sees them in its own
     namespace, and so does the code nested in it (see _receive) -- but
     in a worker (which runs no main block), a name its module binds to
     the very value sent is read there, so that the program's own code in
     the worker may rebind it (_held.in_main_process).

4. Each received function is built afresh: its own cells, defaults and
   namespace, as a fresh unpickle gives.  Receivers cache only code
   objects (immutable), bounded.

5. cloudpickle is the reference for everything else: local classes, enums,
   dataclasses and named tuples go through cloudpickle's class reducer,
   and the types the standard pickler refuses outright (code, cells,
   modules, mappingproxy, dict views, memoryview, ...) through cloudpickle's
   reducers (_reduce.REDUCERS), unless the program registered its own.
"""

import sys
import weakref

from . import _cloud, _mutation
from .._settings import ENV_BY_VALUE, ENV_QUIET, LOG_PREFIX, env_flag

MAIN_NAMES = ("__main__", "__mp_main__")


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


_main_cache = {}


def main_names(module):
    """What a spawned child's copy of this main module defines by itself:
    False when the child has no copy, None when the source is unknown
    (trust the module, as the standard pickler does), else the names its
    top level binds outside the main block.  Once per module: the script
    does not change under a running program."""
    found = _main_cache.get(id(module))
    if found is not None and found[0]() is module:
        return found[1]
    names = _toplevel_names(module) if _main_spawn_resolvable(module) else False
    # A weak reference: holding the main module would change the order in
    # which the interpreter clears modules at exit (a Pool left open then
    # prints a traceback from its __del__).
    _main_cache[id(module)] = (weakref.ref(module), names)
    return names


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
            names = frozenset(_bound_names(ast.parse(f.read(), path).body,
                                           getattr(module, "__package__", None)))
    except (OSError, SyntaxError, ValueError, _StarImport):
        names = None
    _toplevel_cache[path] = names
    return names


class _StarImport(Exception):
    """``from m import *`` of a module not loaded here: which names it
    binds is not in the source."""


def _star_names(node, package):
    """The names ``from m import *`` binds, from this process's m."""
    name = node.module or ""
    if node.level:
        if not package:
            raise _StarImport()
        base = package.rsplit(".", node.level - 1)[0]
        name = base + "." + name if name else base
    module = sys.modules.get(name)
    if module is None:
        raise _StarImport()
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
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


def _bound_names(statements, package=None):
    import ast

    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    for stmt in statements:
        if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
            yield from _bound_names(stmt.orelse, package)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield stmt.name
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*":
                    yield from _star_names(stmt, package)
                    continue
                yield alias.asname or alias.name.partition(".")[0]
            continue
        todo = [stmt]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id
            elif isinstance(node, ast.stmt) and node is not stmt:
                yield from _bound_names([node], package)
                continue
            elif isinstance(node, scopes):
                continue
            todo.extend(ast.iter_child_nodes(node))


def module_owned(gname):
    """The names the receiver's copy of module gname binds by itself (read
    live there), or None for "all of them" (its source is unknown: trust
    the module, as the standard pickler does)."""
    if gname is None or _mutation.ACTIVE == "ignore-live-globals":
        return frozenset()
    module = sys.modules[gname]
    if gname in MAIN_NAMES:
        # No copy in a spawned child: it binds nothing by itself.
        return main_names(module) or frozenset()
    return _toplevel_names(module)


def _names_from_env():
    """CPMP_BY_VALUE: comma-separated module names (cpmp run --by-value sets
    it, so spawned children and preloaded processes see it too)."""
    import os

    names, bad = [], []
    for name in filter(None, os.environ.get(ENV_BY_VALUE, "").split(",")):
        if all(part.isidentifier() for part in name.split(".")):
            names.append(name)
        else:
            bad.append(name)
    if bad:
        if not env_flag(ENV_QUIET):
            sys.stderr.write("%s%s: %s not a module name, ignored\n"
                             % (LOG_PREFIX, ENV_BY_VALUE,
                                ", ".join(repr(n) for n in bad) + (" is" if len(bad) == 1 else " are")))
        # Once for the program: the processes it starts get the value cleaned.
        os.environ[ENV_BY_VALUE] = ",".join(names)
    return set(names)


# Modules named by CPMP_BY_VALUE / --by-value.
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
        cloudpickle = _cloud.import_cloudpickle()
    except ImportError:
        return  # functions still go by value; a class will say what is missing
    try:
        cloudpickle.register_pickle_by_value(module)
    except ValueError:
        pass  # already registered, or a submodule of one


_importable_cache = {}


def _importable(modname):
    found = _importable_cache.get(modname)
    if found is None:
        import importlib.util

        try:
            found = importlib.util.find_spec(modname) is not None
        except (ImportError, ValueError):
            found = False
        _importable_cache[modname] = found
    return found


def _which_module(obj, qualname):
    """The module pickle.whichmodule finds obj in, or None -- searching as
    it does, but past a sys.modules entry whose attribute lookup raises
    something else than AttributeError (which would stop pickle's, and
    which cloudpickle also steps past)."""
    for modname, module in sys.modules.copy().items():
        if modname in MAIN_NAMES or module is None:
            continue
        found = module
        try:
            for part in qualname.split("."):
                found = getattr(found, part)
        except Exception:
            continue
        if found is obj:
            return modname
    return None


# Reasons a main-module definition goes by value, unless a receiver holds it.
MAIN_BLOCK = "of the main block"
MAIN_UNIMPORTABLE = "of a main module workers cannot import"
HOLDABLE = (MAIN_BLOCK, MAIN_UNIMPORTABLE)


def by_value_reason(obj, is_function):
    """Why obj must go by value -- the receiver could not look it up -- in a
    few words, or None when it goes by reference as the standard pickler
    sends it.  MAIN_BLOCK and MAIN_UNIMPORTABLE are the reasons a receiver
    forked from this process may hold obj anyway (see _held)."""
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(qualname, str):
        return None
    if is_function and "<" in qualname:  # <lambda>, <locals>
        return "defined inside a function"
    modname = getattr(obj, "__module__", None)
    if modname is None:
        # The standard pickler searches sys.modules for it (exec'd code
        # without __name__) and fails where none has it.
        return None if _which_module(obj, qualname) else "not found under its name"
    if not isinstance(modname, str):
        return None
    if by_value_module(modname):
        return "of a by-value module"
    module = sys.modules.get(modname)
    if module is None:
        # The pickler imports it, as it always has -- unless there is no
        # such module (a namedtuple's __new__ says "namedtuple_Point").
        return None if _importable(modname) else "of a module that cannot be imported"
    found = module
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:
        return "not found under its name"
    if found is not obj:
        return "not found under its name"
    if modname in MAIN_NAMES:
        names = main_names(module)
        if names is False:
            return MAIN_UNIMPORTABLE
        if names is not None and qualname.partition(".")[0] not in names:
            return MAIN_BLOCK
    return None
