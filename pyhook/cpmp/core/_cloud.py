"""cloudpickle, imported the first time something needs it (a program that
sends no class by value never imports it), and OWN: the functions cpmp's
payloads name, which go by reference without asking the policy."""

import os
import pickle
import sys
import threading
from types import FunctionType

from .._settings import install_fix

# Functions cpmp's payloads name (_receive's, cloudpickle's once imported)
# and C types found by name: by reference without asking the policy at each
# send.  The C fast path reads this very set (_speedups.set_tables).
OWN = set()


def own(module):
    """Add module's own named functions to OWN (none for None)."""
    if module is None:
        return
    name = getattr(module, "__name__", None)
    OWN.update(v for v in vars(module).values()
               if type(v) is FunctionType and v.__module__ == name and "<" not in v.__qualname__)


def import_cloudpickle():
    """cloudpickle as the program has it, or imported now -- never from the
    directory a -c, stdin or -m program runs in (sys.path[0] is "" or the
    current directory there): python3 itself never imports cloudpickle, so
    a cloudpickle.py planted in the current directory must not be run
    either (a script's own directory, which python3 searches for its own
    imports, is searched as usual)."""
    found = sys.modules.get("cloudpickle")
    if found is not None:
        flight = _in_flight[:1]
        if (flight and flight[0][0] != threading.get_ident()) \
                or sys.modules.get("cloudpickle") is not found:
            # cpmp's own import, under way in another thread (the module is
            # in sys.modules before it runs), or just ended: wait for it to
            # end, and look again.  Threads sending their first classes at
            # once took the half-made module (issue 19).
            with _importing:
                pass
            return import_cloudpickle()
        if getattr(getattr(found, "__spec__", None), "_initializing", False):
            # Another thread is importing it: wait for it, on its module
            # lock, as an import statement would (it is in sys.modules, so
            # nothing is searched).
            import importlib

            return importlib.import_module("cloudpickle")
        return found
    with _importing:
        found = sys.modules.get("cloudpickle")
        if found is not None:
            return found
        _in_flight.append((threading.get_ident(), set(sys.modules)))
        try:
            return _import_cloudpickle()
        finally:
            _in_flight.clear()


def _import_cloudpickle():
    import importlib.machinery
    import importlib.util

    untrusted = _untrusted_directories(os)
    path = [p for p in sys.path if isinstance(p, str) and p not in ("", ".")
            and os.path.realpath(p) not in untrusted]
    spec = importlib.machinery.PathFinder.find_spec("cloudpickle", path)
    if spec is None:
        raise ModuleNotFoundError("No module named 'cloudpickle'", name="cloudpickle")
    bootstrap = sys.modules.get("_frozen_importlib")
    locked = getattr(bootstrap, "_ModuleLockManager", None)
    load = getattr(bootstrap, "_load_unlocked", None)
    if locked is not None and load is not None:
        # As an import statement loads it: under the module's import lock,
        # marked as initializing, so that the program's own `import
        # cloudpickle` in another thread waits for this one, instead of
        # running cloudpickle a second time beside it (two copies; on 3.14t
        # a _DeadlockError between cloudpickle's own submodules).
        with locked("cloudpickle"):
            found = sys.modules.get("cloudpickle")
            return found if found is not None else load(spec)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cloudpickle"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop("cloudpickle", None)
        raise
    return module


_importing = threading.RLock()
# While import_cloudpickle runs: (its thread, the modules loaded before).
_in_flight = []


def _after_fork_in_child():
    """A child forked while another thread imported a module inherits it
    half made, for good (the thread finishing it is not forked), and the
    module lock that thread held: a later import of it here waits forever
    (cpmp imports ast, inspect and cloudpickle in workers when it first
    needs them).  Drop such a module and its lock, so that the child
    imports it afresh when it needs it -- never one this thread was
    importing (a module that starts a Pool at import: the child must not
    run it again).  Also cloudpickle when cpmp's own import of it was
    under way, and cloudpickle's class-tracker lock."""
    global _importing
    _importing = threading.RLock()
    # cloudpickle's own lock, held for good if another thread was sending a
    # class when this child was forked.
    for module in _MODULES:
        if hasattr(sys.modules.get(module), "_DYNAMIC_CLASS_TRACKER_LOCK"):
            sys.modules[module]._DYNAMIC_CLASS_TRACKER_LOCK = threading.Lock()
    me = threading.get_ident()
    if _in_flight and _in_flight[0][0] != me:
        before = _in_flight.pop()[1]
        for name in [n for n in sys.modules if n not in before]:
            if name.partition(".")[0] == "cloudpickle":
                del sys.modules[name]
    # (No import here: one could wait for such a lock.)
    locks = getattr(sys.modules.get("_frozen_importlib"), "_module_locks", {})
    for name, ref in list(locks.items()):
        owner = getattr(ref() if callable(ref) else ref, "owner", None)
        if owner not in (None, 0, me):
            locks.pop(name, None)
            spec = getattr(sys.modules.get(name), "__spec__", None)
            if getattr(spec, "_initializing", False):
                del sys.modules[name]


os.register_at_fork(after_in_child=_after_fork_in_child)


def _untrusted_directories(os):
    """The directories a -c, stdin or -m program runs in, as real paths:
    the current one, the one the process started in, and the one a
    spawned child's path names in place of its parent's "" (ORIGINAL_DIR)
    -- unless the main program is a script, a directory or a zip there,
    whose own directory is searched for cloudpickle as python3 searches it
    for the program's imports."""
    from .._settings import STARTUP_DIR

    found = [STARTUP_DIR, getattr(sys.modules.get("multiprocessing.process"), "ORIGINAL_DIR", None)]
    try:
        found.append(os.getcwd())
    except OSError:
        pass
    untrusted = {os.path.realpath(d) for d in found if isinstance(d, str)}
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    spec = getattr(main, "__spec__", None)
    if isinstance(script, str) and os.path.isfile(script) \
            and (spec is None or getattr(spec, "name", None) == "__main__"):
        untrusted.discard(os.path.dirname(os.path.realpath(script)))
    return untrusted


def _cloudpickle():
    try:
        return import_cloudpickle()
    except ImportError as exc:
        raise pickle.PicklingError(
            "cpmp: sending a class by value needs cloudpickle, which this Python cannot "
            "import (%s)" % install_fix()) from exc


_known = []
_MODULES = ("cloudpickle.cloudpickle_fast", "cloudpickle.cloudpickle")


def attr(name):
    """One of cloudpickle's reducers or helpers, wherever its version keeps
    it (cloudpickle_fast in 2.x, cloudpickle in 1.x and 3.x)."""
    if not _known:
        _cloudpickle()
        for module in _MODULES:
            own(sys.modules.get(module))
        _known.append(True)
    for module in _MODULES:
        found = getattr(sys.modules.get(module), name, None)
        if found is not None:
            return found
    cloudpickle = sys.modules["cloudpickle"]
    raise pickle.PicklingError("cpmp: cloudpickle %s has no %s; cpmp needs cloudpickle >= 1.6"
                               % (getattr(cloudpickle, "__version__", "?"), name))
