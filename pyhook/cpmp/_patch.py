"""Applying and removing the patch.

multiprocessing binds ForkingPickler in five places, three of them captured
at import time (connection._ForkingPickler, queues._ForkingPickler,
sharedctypes._ForkingPickler), plus reduction.dump and
AbstractReducer.ForkingPickler.  All of them hold the *same class object*, so
cpmp changes that class in place instead of replacing it: it gives it a
reducer_override, which applies cpmp's reducers where the registry and
copyreg have none the program registered.  Every binding site, every
subclass (custom reducers via context.reducer) and every module imported
later sees the change, and registrations made through reduction.register
before or after patching win as they did.
"""

import functools
import io
import sys

from . import _state


def pickler_module():
    """core._reduce, with CPMP_TRACE's tracing wrapped into its
    reducer_override before the first pickler takes it (cpmp.dumps or
    the patch, whichever comes first)."""
    from .core import _reduce

    if not _tracing_decided:
        _tracing_decided.append(True)
        from ._settings import ENV_TRACE, env_flag

        if env_flag(ENV_TRACE):
            from .tools import _trace

            _reduce.wrap_override(_trace.traced)
    return _reduce


_tracing_decided = []


def _apply_reduction(reduction):
    from .core import _held

    _reduce = pickler_module()
    pickler = reduction.ForkingPickler
    if _state.patched_attr(pickler, "reducer_override"):
        return
    # What a forked child holds: pinned at every fork from now on (a
    # fork hook cannot be removed, so unpatch leaves it, doing nothing
    # that changes a pickle).
    _held.install()
    _reduce.connect(reduction)
    _state.set_attr(pickler, "reducer_override", _reduce.reducer_override)
    _patched[0] = pickler
    # cpmp's reducers for types the standard pickler refuses are applied
    # by reducer_override (_reduce.REDUCERS), not added to the registry.
    _typing_pending[:] = [] if _reduce.add_typevar() else [True]
    # Same work as multiprocessing's own dumps and dump, plus naming where
    # an unpicklable object sits when pickling fails (see _diagnose).
    _state.set_attr(pickler, "dumps", classmethod(_dumps))
    _state.set_attr(reduction, "dump", functools.partial(_dump, reduction))


# Patching does not import typing for its TypeVar reducer: the first send
# after the program imports it adds that reducer, else a TypeVar bound by a
# -c program or a main block would go by a name that a spawned child cannot
# find.
_typing_pending = []


def _register_typing():
    _typing_pending[:] = [] if pickler_module().add_typevar() else [True]


_patched = [None]  # ForkingPickler, once patched


def _subclass_pickler(cls, buf, protocol):
    """A pickler of a ForkingPickler subclass: one with a registry of its own
    (a custom context.reducer's) reads that, so what it holds wins over
    cpmp's reducers, unless the subclass has a reducer_override of its own."""
    _reduce = pickler_module()
    if getattr(cls, "reducer_override", None) is not _reduce.override_function():
        return cls(buf, protocol)  # its own, found before cpmp's
    mro = cls.__mro__
    # One a base after ForkingPickler has (cloudpickle.Pickler's), as without cpmp.
    theirs = [vars(k)["reducer_override"] for k in mro[mro.index(_patched[0]) + 1:]
              if "reducer_override" in vars(k)]
    if not theirs and cls._extra_reducers is _patched[0]._extra_reducers:
        return cls(buf, protocol)
    pickler = cls.__new__(cls)
    pickler.reducer_override = theirs[0].__get__(pickler, cls) if theirs \
        else _reduce.deferring(cls._extra_reducers)
    pickler.__init__(buf, protocol)
    return pickler


def _dumps(cls, obj, protocol=None):
    if _typing_pending and "typing" in sys.modules:
        _register_typing()
    buf = io.BytesIO()
    try:
        (cls(buf, protocol) if cls is _patched[0] else _subclass_pickler(cls, buf, protocol)).dump(obj)
    except Exception as exc:
        _annotate(exc, obj, cls)
        raise
    return buf.getbuffer()


def _dump(reduction, obj, file, protocol=None):
    """Replacement for pickle.dump() using ForkingPickler."""
    pickler = reduction.ForkingPickler
    if _typing_pending and "typing" in sys.modules:
        _register_typing()
    try:
        pickler(file, protocol).dump(obj)
    except Exception as exc:
        _annotate(exc, obj, pickler)
        raise


def _annotate(exc, obj, pickler):
    from .core import _diagnose

    _diagnose.annotate(exc, obj, pickler)


def _apply_spawn(spawn):
    """Let programs read from stdin start spawn and forkserver children, let
    and children of another interpreter load what cpmp sends.

    A program read from stdin has __main__.__file__ "<stdin>", which spawn
    tells every child to re-run as a script; the child dies on the missing
    file and a Pool replaces it forever.  A main script that is not a file
    is not sent.  Likewise a child started with set_executable() by an
    interpreter that is not cpmp's: it dies on "No module named 'cpmp'"
    while loading its first task, unless the package's directory is on its
    path (it then runs unpatched, as that interpreter would).
    """
    if _state.patched_attr(spawn, "get_preparation_data"):
        return
    import os

    original = spawn.get_preparation_data

    @functools.wraps(original)
    def get_preparation_data(name):
        data = original(name)
        path = data.get("init_main_from_path")
        if path is not None and not os.path.isfile(path):
            del data["init_main_from_path"]
        if "sys_path" in data and _foreign_executable(spawn):
            home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            if home not in data["sys_path"]:
                data["sys_path"] = list(data["sys_path"]) + [home]
        return data

    _state.set_attr(spawn, "get_preparation_data", get_preparation_data)


def _foreign_executable(spawn):
    """Whether spawn starts children with an interpreter other than this
    process's own (multiprocessing.set_executable), while this process runs
    under cpmp's launcher (whose children import cpmp by themselves)."""
    import os

    executable = spawn.get_executable()
    if isinstance(executable, bytes):
        executable = os.fsdecode(executable)
    return (os.path.basename(os.path.realpath(sys.executable)) == "cpmp"
            and os.path.realpath(executable) != os.path.realpath(sys.executable))


def _apply_pool(pool):
    """--cluster: multiprocessing.Pool (any context) runs on the cluster."""
    if not _state.patched_attr(pool, "Pool"):
        from .cluster._pool import ClusterPool

        _state.set_attr(pool, "Pool", ClusterPool)


def _apply_executor(process):
    """--cluster: ProcessPoolExecutor too, also where concurrent.futures
    has already looked it up (it does so lazily, once)."""
    if not _state.patched_attr(process, "ProcessPoolExecutor"):
        from .cluster._executor import ClusterExecutor

        _state.set_attr(process, "ProcessPoolExecutor", ClusterExecutor)
        futures = sys.modules.get("concurrent.futures")
        if futures is not None and "ProcessPoolExecutor" in vars(futures):
            _state.set_attr(futures, "ProcessPoolExecutor", ClusterExecutor)


def _apply_interpreter(interpreter):
    """3.14's InterpreterPoolExecutor: tasks, results and exceptions through
    cpmp's pickler where CPython pickles them (see core._subinterp)."""
    context = interpreter.WorkerContext
    if not _state.patched_attr(context, "run"):
        from .core import _subinterp

        _state.set_attr(_subinterp, "bind_alias", functools.partial(
            _state.set_item, sys.modules, _subinterp.FAKE_MAIN))
        _state.set_attr(context, "run", _subinterp.run)


# What to patch in each module (cpmp._TARGETS names them for the import
# hook): module name -> (an attribute that exists once it has run, patch).
_TARGETS = {
    "multiprocessing.reduction": ("ForkingPickler", _apply_reduction),
    "multiprocessing.spawn": ("get_preparation_data", _apply_spawn),
}
_OPTIONAL = ("concurrent.futures.interpreter",)
if sys.version_info >= (3, 14):
    _TARGETS["concurrent.futures.interpreter"] = ("InterpreterPoolExecutor", _apply_interpreter)
# With CPMP_CLUSTER set (cpmp._CLUSTER_TARGETS).
_CLUSTER_TARGETS = {
    "multiprocessing.pool": ("ThreadPool", _apply_pool),
    "concurrent.futures.process": ("ProcessPoolExecutor", _apply_executor),
}


def _targets():
    from ._settings import cluster_configured

    return dict(_TARGETS, **_CLUSTER_TARGETS) if cluster_configured() else _TARGETS


def _apply_loaded():
    """Patch the targets already loaded; True when none is left to wait for."""
    pending = False
    for name, (landmark, apply) in _targets().items():
        module = sys.modules.get(name)
        if module is not None and hasattr(module, landmark):
            apply(module)
        else:
            pending = True
    return not pending


def on_loaded(finder):
    """A target module has just run: patch what is loaded, and take the
    import hook out once nothing is left to wait for."""
    if _apply_loaded():
        disarm(type(finder))


def disarm(finder_type):
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, finder_type)]


def patch(finder_type):
    """cpmp.patch(): patch now, importing the targets; no hook is left armed."""
    import multiprocessing.reduction
    import multiprocessing.spawn

    del multiprocessing  # imported to be patched
    for name in _targets():
        try:
            __import__(name)
        except ImportError:
            if name not in _OPTIONAL:
                raise  # (a build without subinterpreters has no InterpreterPoolExecutor)
    _apply_loaded()
    disarm(finder_type)


def binding_sites():
    """[(site, patched)] for every place multiprocessing binds its pickler
    (what cpmp doctor checks in a fresh interpreter).  Imports them all; a
    site counts as patched while it holds exactly what the patch put there."""
    import multiprocessing.connection
    import multiprocessing.queues
    import multiprocessing.reduction
    import multiprocessing.sharedctypes
    import multiprocessing.spawn

    from .core import _reduce

    reduction = multiprocessing.reduction
    pickler = reduction.ForkingPickler
    ours = vars(pickler).get("reducer_override") is _reduce.reducer_override
    held = (
        ("multiprocessing.connection._ForkingPickler", multiprocessing.connection._ForkingPickler),
        ("multiprocessing.queues._ForkingPickler", multiprocessing.queues._ForkingPickler),
        ("multiprocessing.sharedctypes._ForkingPickler",
         multiprocessing.sharedctypes._ForkingPickler),
        ("multiprocessing.reduction.AbstractReducer.ForkingPickler",
         reduction.AbstractReducer.ForkingPickler),
        ("multiprocessing.context reducer", multiprocessing.get_context().reducer.ForkingPickler),
    )
    dump = reduction.dump
    get_preparation_data = multiprocessing.spawn.get_preparation_data
    return ([("multiprocessing.reduction.ForkingPickler", ours)]
            + [(name, ours and value is pickler) for name, value in held]
            + [("multiprocessing.reduction.dump",
                getattr(dump, "func", None) is _dump and _state.patched_attr(reduction, "dump")),
               ("multiprocessing.spawn.get_preparation_data",
                getattr(get_preparation_data, "__code__", None) is not None
                and get_preparation_data.__code__.co_filename == _apply_spawn.__code__.co_filename)])
