"""cpmp: multiprocessing that can send lambdas, closures and local classes.

    import cpmp
    cpmp.patch()            # idempotent
    with multiprocessing.get_context("spawn").Pool() as pool:
        pool.map(lambda x: x ** 2, range(10))
    cpmp.unpatch()          # restores exactly what was there

Under ``cpmp run`` or ``cpmp exec`` the patch is already active, in the
program and in all of its child processes; nothing needs to be imported.

Only what the standard pickler cannot send (or the receiving process could
not look up) goes by value; everything else is pickled exactly as without
cpmp.  A lambda or nested function runs in a worker on the worker's live
module globals, just as a top-level function would.
"""

__all__ = ["patch", "unpatch", "is_patched", "patched", "register", "register_by_value",
           "unregister_by_value", "dumps", "dump", "loads", "load", "__version__"]

import sys

# Modules cpmp patches, as soon as each has been executed.  Start-up cost
# matters here: this module is all that a program which never uses
# multiprocessing loads; the rest is imported when a target is.
_TARGETS = ("multiprocessing.reduction", "multiprocessing.spawn")
if sys.version_info >= (3, 14):
    # InterpreterPoolExecutor, which concurrent.futures imports when asked
    # for: the hook stays until then (one tuple lookup per import).
    _TARGETS += ("concurrent.futures.interpreter",)
# Also patched under --cluster (CPMP_CLUSTER): the pools that run there.
_CLUSTER_TARGETS = ("multiprocessing.pool", "concurrent.futures.process")


def patch():
    """Make multiprocessing send lambdas, closures and local classes.

    Idempotent.  Everything the standard pickler can send still goes exactly
    as before; only functions and classes the receiver could not look up are
    sent by value.  Imports multiprocessing.
    """
    from . import _patch

    _patch.patch(_ArmedFinder)


def unpatch():
    """Restore every attribute and registry entry cpmp changed.  Idempotent."""
    from . import _patch, _state

    _patch.disarm(_ArmedFinder)
    _state.restore()


def is_patched():
    """True while the patch is applied, or armed to apply when
    multiprocessing is imported (as under cpmp run)."""
    if any(isinstance(f, _ArmedFinder) for f in sys.meta_path):
        return True
    from . import _state

    return _state.is_applied()



def register(type_, reducer):
    """Register reducer for type_ with multiprocessing's pickler.

    The same registry as multiprocessing.reduction.register: it holds whether
    or not cpmp is patched, and survives unpatch().
    """
    import multiprocessing.reduction

    multiprocessing.reduction.ForkingPickler.register(type_, reducer)


class patched:
    """Context manager: patched inside the block, as before after it.

        with cpmp.patched():
            pool.map(lambda x: x + 1, data)

    Leaving the block unpatches only if it was not patched on entry.
    """

    def __enter__(self):
        self._was = is_patched()
        patch()
        return self

    def __exit__(self, *exc):
        if not self._was:
            unpatch()
        return False


def _arguments(reducers, protocol, buffer_callback):
    """cpmp.dumps's and cpmp.dump's (reducers, protocol, buffer_callback),
    given in cpmp's order or in cloudpickle's, (protocol, buffer_callback):
    an int where reducers go is the protocol, and what follows it the
    buffer_callback."""
    if not isinstance(reducers, int):
        return reducers, protocol, buffer_callback
    if protocol is not None and not callable(protocol):  # dumps(obj, 2, protocol=3)
        raise TypeError("cpmp: protocol given twice (%r and %r)" % (reducers, protocol))
    if protocol is not None and buffer_callback is not None:
        raise TypeError("cpmp: buffer_callback given twice")
    return None, reducers, protocol if protocol is not None else buffer_callback


def dumps(obj, reducers=None, protocol=None, buffer_callback=None):
    """Pickle obj with cpmp's pickler: multiprocessing's ForkingPickler
    with exactly what the patch adds, whether or not it is applied.

    reducers, {type: reducer}, add reducers for this call only (as
    copyreg.pickle would, but not globally).  buffer_callback is pickle's
    (protocol 5 out-of-band buffers).  cloudpickle's order works too, as a
    drop-in for cloudpickle.dumps(obj, protocol, buffer_callback): an int
    second argument is the protocol, and the one after it the
    buffer_callback.

    Returns bytes, which loads() (the standard pickle.loads) reads in any
    process that can import cpmp, with one exception: a function or class
    defined at the top level of the main script (outside its
    if __name__ == "__main__": block) goes by reference, as __main__.name,
    exactly as python3 sends it.  multiprocessing's children run that
    script too (spawn and forkserver import it, fork inherits it), so they
    get their own definition and identity holds; any other process fails
    to load it with AttributeError, unless its own __main__ binds that
    name.  cloudpickle.dumps sends it by value instead.
    Too deep an object raises pickle.PicklingError, as cloudpickle.dumps
    does (and RecursionError, as pickle.dumps does: it is both).
    """
    from . import _patch

    _reduce = _patch.pickler_module()
    return _reduce.dumps(obj, *_arguments(reducers, protocol, buffer_callback))


def dump(obj, file, reducers=None, protocol=None, buffer_callback=None):
    """Like dumps(), writing to the binary file object file; the arguments
    after it also in cloudpickle.dump's order, (protocol, buffer_callback)."""
    from . import _patch

    _reduce = _patch.pickler_module()
    _reduce.dump(obj, file, *_arguments(reducers, protocol, buffer_callback))


def loads(data, **kwargs):
    """pickle.loads: what cpmp pickles needs nothing else to load."""
    import pickle

    return pickle.loads(data, **kwargs)


def load(file, **kwargs):
    """pickle.load: what cpmp pickles needs nothing else to load."""
    import pickle

    return pickle.load(file, **kwargs)


def register_by_value(module):
    """Send module's functions and classes by value, with their globals,
    for workers that cannot import it (a module made at run time, or one
    only the parent's sys.path holds).  cloudpickle's
    register_pickle_by_value, which cpmp honours; needs cloudpickle."""
    _cloudpickle().register_pickle_by_value(module)


def unregister_by_value(module):
    """Undo register_by_value(module): its functions and classes go by
    reference again (raises ValueError if it was not registered)."""
    _cloudpickle().unregister_pickle_by_value(module)


def _cloudpickle():
    from .core import _cloud

    try:
        return _cloud.import_cloudpickle()
    except ImportError as exc:
        from ._settings import install_fix

        raise ImportError("cpmp: by-value modules need cloudpickle, which this Python "
                          "cannot import (%s)" % install_fix()) from exc


class _ArmedFinder:
    """Patches each target module the moment it has been executed.

    It answers only for the targets, and only by asking the finders behind
    it; the module and its loader stay the ones Python found.  Once every
    target is patched the finder removes itself, so later imports pay
    nothing.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _TARGETS:
            return None
        meta = sys.meta_path
        start = meta.index(self) + 1 if self in meta else 0
        for finder in meta[start:]:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        hook = self

        def exec_module(module):
            try:
                type(loader).exec_module(loader, module)
            finally:
                loader.__dict__.pop("exec_module", None)
            from . import _patch

            _patch.on_loaded(hook)

        # Shadow exec_module on this one loader instance for this one call,
        # so __loader__ and __spec__.loader stay Python's own object.
        loader.exec_module = exec_module
        return spec


def __getattr__(name):
    # The version, read only when asked: start-up imports nothing for it.
    if name == "__version__":
        from ._settings import VERSION

        return VERSION
    raise AttributeError("module 'cpmp' has no attribute %r" % name)


def _warn_unreachable():
    """cpmp run: one line when a python3 flag hides cloudpickle (which only
    local classes need: lambdas and closures still travel)."""
    f = sys.flags
    if not (f.no_site or f.isolated or f.ignore_environment or f.no_user_site):
        return
    if "cloudpickle" in sys.modules:
        return
    import importlib.util

    if importlib.util.find_spec("cloudpickle") is not None:
        return
    if f.no_site:
        flag = "-S (no site-packages)"
    elif f.isolated:
        flag = "-I"
    else:
        flag = " ".join(name for name, on in (("-E", f.ignore_environment),
                                              ("-s", f.no_user_site)) if on)
    sys.stderr.write("cpmp: cloudpickle is not reachable with %s: lambdas, closures and "
                     "nested functions still travel, local classes cannot\n" % flag)


def _watch_by_value(preloaded=False):
    """cpmp run: name at exit a --by-value module none can find (_unfound.py)."""
    from . import _unfound

    _unfound.watch(preloaded)


class _Alias:
    """`import cpmp` (and cpmp.X) answered with this package, loaded as
    __cpmp__ by the launcher or the preload library.  For cpmp itself it is
    last in sys.meta_path: a module named cpmp of the program's own comes
    first, as under python3.  For cpmp.X it is first, put there only once
    cpmp has been answered with this package (else the parent's __path__
    would load a second copy of X): a program that never imports cpmp pays
    nothing per import."""

    def __init__(self, top):
        self.top = top

    def find_spec(self, fullname, path=None, target=None):
        if self.top:
            if fullname != "cpmp":
                return _moved(fullname)
            if __name__ == "cpmp":
                return None
            if not any(isinstance(f, _Alias) and not f.top for f in sys.meta_path):
                sys.meta_path.insert(0, _Alias(top=False))
        elif not fullname.startswith("cpmp.") or sys.modules.get("cpmp") is not \
                sys.modules.get(__name__):
            return None
        import importlib
        import importlib.util

        module = importlib.import_module(__name__ + fullname[len("cpmp"):])
        return importlib.util.spec_from_loader(fullname, _Existing(module),
                                               is_package=hasattr(module, "__path__"))


# The flat module names of cpmp 0.1, which the pickles and Dask tasks it
# wrote name (``__cpmp__._receive.make_function``): each answered with the
# module that holds those names now (cpmp/core/_wire.py).
_MOVED = {"_" + name: "core._" + name for name in (
    "code", "diagnose", "fallback", "globals", "held", "mutation", "policy", "receive",
    "reduce", "resend", "send", "stash")}
_MOVED.update({"_cluster" + name: "cluster._" + (name[1:] or "client") for name in (
    "", "_executor", "_local", "_pool", "_send", "_space", "_worker")})
_MOVED.update(_cluster_doctor="cluster._checks", _cli="tools._cli", _doctor="tools._doctor",
              _kernel="tools._kernel", _trace="tools._trace")


def _moved(fullname):
    """The spec of a module cpmp 0.1 had under fullname, or None.  Asked
    only after every other finder failed: a program pays nothing."""
    package, _, name = fullname.rpartition(".")
    new = _MOVED.get(name)
    if new is None or package not in (__name__, "cpmp") or \
            sys.modules.get(package) is not sys.modules.get(__name__):
        return None
    import importlib
    import importlib.util

    module = importlib.import_module(__name__ + "." + new)
    return importlib.util.spec_from_loader(fullname, _Existing(module))


class _Existing:
    """A loader that gives an already loaded module."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


def _activate():
    """Entry point of the launcher and the preload library (not public).

    Patches at once if a target is already loaded (a sitecustomize may have
    imported multiprocessing), else arms the import hook.  Never imports
    multiprocessing or cloudpickle itself (nor os: under -S even that
    would be a cost).  The caller has already honoured CPMP_DISABLE.
    """
    if any(isinstance(f, _ArmedFinder) for f in sys.meta_path):
        return
    # A preloaded process cannot refuse a bad CPMP_DISABLE or CPMP_QUIET
    # as cpmp run does: it says so once and ignores it.
    from . import _settings

    _settings.check_flags()  # which imports os
    if "CPMP_RUN_EXECED" in sys.modules["os"].environ:
        _watch_by_value(preloaded=True)
    global _TARGETS
    if _settings.cluster_configured():
        _TARGETS = _TARGETS + _CLUSTER_TARGETS
    if any(name in sys.modules for name in _TARGETS):
        from . import _patch

        if _patch._apply_loaded():
            return
    sys.meta_path.insert(0, _ArmedFinder())


def _armed_copy():
    """The package the launcher or the preload library loaded, when this
    module is a second copy of it: pip puts the package in site-packages,
    where `import cpmp` finds it before _Alias is asked (whose answer it
    should be: a copy's is_patched() says False in a patched process)."""
    armed = sys.modules.get("__cpmp__")  # CPMP_MODULE (common/cpmp.h)
    if __name__ != "cpmp" or armed is None or not hasattr(armed, "_Alias"):
        return None
    import os.path

    same = os.path.realpath(armed.__file__) == os.path.realpath(__file__)
    return armed if same else None


# Last in sys.meta_path, asked only for what no other finder found: `import
# cpmp` when loaded as __cpmp__, and the module names of cpmp 0.1.  A
# second copy gives way to the first (the import system returns what
# sys.modules holds once this has run), and cpmp.X is answered as _Alias
# answers it.
_armed = _armed_copy()
if _armed is not None:
    if not any(isinstance(f, _armed._Alias) and not f.top for f in sys.meta_path):
        sys.meta_path.insert(0, _armed._Alias(top=False))
    sys.modules[__name__] = _armed
elif not any(isinstance(f, _Alias) for f in sys.meta_path):
    sys.meta_path.append(_Alias(top=True))
