"""What a Dask worker runs for a program under ``--cluster`` (see _client).

Its names are written into Dask's task messages as
``__cpmp__.cluster._worker.NAME`` (see core/_wire): the worker must run cpmp (``cpmp exec --
dask-worker ADDRESS``), which _client checks at connect.

Each pool (or executor) of the program is a *space* here: a fresh copy of
the program's main module, made as a spawn child makes it (the script re-run
as ``__mp_main__``, its main block skipped), then the pool's initializer --
once per space in this process, before its first task, as a local worker
process of that pool would.  While a task of a space runs, ``__main__`` and
``__mp_main__`` are that space's module, so references to the program's
main module resolve to it and nowhere else.

One task at a time per worker process, whatever Dask's thread count: a
local pool's worker process runs its tasks one after the other, and task
code that is not thread-safe (a module-level scratch buffer, a shared
random generator) must not give another answer on the cluster.
"""

import builtins
import pickle
import sys
import threading
from collections import OrderedDict
from types import ModuleType

_running = threading.Lock()  # held for each task, and to change what is installed
_spaces_lock = threading.Lock()
_spaces = OrderedDict()  # space key -> _Space, most recent last
_MAX_SPACES = 64  # pools the program forgot to close are dropped, oldest first
_active = [None]  # the space installed


class _Space:
    def __init__(self, key):
        self.key = key
        self.program = {}
        self.module = None
        self.error = None  # what the main module or the initializer raised


_worker_own = []  # the worker's own (__main__, __mp_main__, argv, cwd)


def _install(space):
    """What a spawn child of the program has: its main module as __main__,
    its sys.argv, and its working directory where this machine has it."""
    import os

    if not _worker_own:
        _worker_own.append((sys.modules.get("__main__"), sys.modules.get("__mp_main__"),
                            list(sys.argv), os.getcwd()))
    sys.modules["__main__"] = sys.modules["__mp_main__"] = space.module
    program = space.program
    if "argv" in program:
        sys.argv[:] = program["argv"]
    if "dir" in program:
        try:
            os.chdir(program["dir"])
        except OSError:
            pass


def _uninstall():
    """The worker's own main module, argv and directory again (lock held,
    no task running): a finished program leaves nothing behind."""
    import os

    main, mp_main, argv, cwd = _worker_own[0]
    for name, module in (("__main__", main), ("__mp_main__", mp_main)):
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    sys.argv[:] = argv
    try:
        os.chdir(cwd)
    except OSError:
        pass
    _active[0] = None


def _main_module(space, program):
    """A fresh __mp_main__ as a spawn child makes it, from what the client
    sent: the script's source (the file need not exist here), or the
    module name of ``python -m``, or nothing (-c, stdin, a notebook)."""
    module = ModuleType("__mp_main__")
    module.__builtins__ = builtins
    space.module, space.program = module, program
    _install(space)
    for entry in program.get("sys_path", ()):
        if entry not in sys.path:
            import os

            if os.path.isdir(entry):
                sys.path.append(entry)
    path, source, name = program.get("path"), program.get("source"), program.get("name")
    if source is not None:
        module.__file__ = path
        _remember_source(path, source)
        exec(compile(source, path, "exec"), module.__dict__)
    elif name is not None:
        import runpy

        module.__dict__.update(runpy.run_module(name, run_name="__mp_main__", alter_sys=False))
    return module


def _remember_source(path, source):
    """Tracebacks show the script's lines even where the file is absent."""
    import linecache
    import os

    if not os.path.isfile(path):
        text = source.decode("utf-8", "replace")
        linecache.cache[path] = (len(text), None, text.splitlines(True), path)


_fetched = OrderedDict()  # name -> the program's description or an initializer
FETCH_TIMEOUT = 60  # seconds


def _fetch(name):
    """What the client keeps under name (_client's keep): on the
    scheduler, so that no worker's death loses it; fetched once per
    worker process, and not as a task's dependency, which would hold a
    task back while a later one of the same pool runs (a pool's tasks
    start in the order they were sent, as from a local pool's queue)."""
    value = _fetched.get(name, _fetched)
    if value is _fetched:
        from distributed import Variable, get_client

        value = Variable(name, client=get_client()).get(timeout=FETCH_TIMEOUT)
        _fetched[name] = value
        while len(_fetched) > _MAX_SPACES:
            _fetched.popitem(last=False)
    return value


def _prepare(space, program, initializer):
    """Make the space's main module and run its initializer, once."""
    try:
        _main_module(space, pickle.loads(_fetch(program)))
        if initializer is not None:
            func, args = pickle.loads(_fetch(initializer))
            func(*args)
    except BaseException as exc:
        space.module = space.module or ModuleType("__mp_main__")
        space.error = exc


def _enter(key):
    """The space, installed (_running held)."""
    with _spaces_lock:
        space = _spaces.get(key)
        if space is None:
            space = _spaces[key] = _Space(key)
            while len(_spaces) > _MAX_SPACES:
                _spaces.popitem(last=False)
        else:
            _spaces.move_to_end(key)
    if _active[0] is not space:
        _active[0] = space
        if space.module is not None:
            _install(space)
    return space


def forget(key):
    """The client closed the pool: drop its space (client.run calls it, on
    the worker's event loop: never waits for a running task)."""
    with _spaces_lock:
        space = _spaces.pop(key, None)
    if space is not None and _running.acquire(blocking=False):
        try:
            if _active[0] is space and _worker_own:
                _uninstall()
        finally:
            _running.release()


def _wrap(exc, flavour):
    """The exception as the pool's own worker sends it: with its traceback,
    which the client gets as __cause__."""
    if flavour == "pool":
        from multiprocessing.pool import ExceptionWithTraceback
    else:
        from concurrent.futures.process import _ExceptionWithTraceback as ExceptionWithTraceback
    return ExceptionWithTraceback(exc, exc.__traceback__)


def _send(result, flavour, output):
    from ..core._reduce import dumps

    try:
        return dumps(result + output)
    except Exception as exc:
        if flavour == "pool" and result[0]:
            from multiprocessing.pool import MaybeEncodingError

            return dumps((False, MaybeEncodingError(exc, result[1])) + output)
        return dumps((False, _wrap(exc, flavour)) + output)


class _Captured:
    """sys.stdout and sys.stderr of the task, kept to go back with its
    result: what a task prints appears in the program's own output, as a
    local pool worker's does (one task at a time, so swapping is safe)."""

    def __enter__(self):
        import io

        self.saved = sys.stdout, sys.stderr
        self.streams = [io.TextIOWrapper(io.BytesIO(), encoding="utf-8",
                                         errors="backslashreplace", write_through=True)
                        for _ in range(2)]
        sys.stdout, sys.stderr = self.streams
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        self.output = tuple(s.buffer.getvalue() for s in self.streams)
        return False


def run(program, space_key, initializer, flavour, task):
    """One task: pickled (func, args, kwargs) from the client; program and
    initializer: keys of what the client scattered (see _fetch).  Returns
    pickled (True, result), (False, exception) or, when the space could not
    be prepared, (None, exception) -- each followed by what the task (and
    the initializer) wrote to stdout and to stderr; never raises: Dask's
    own error path would change the exception the program sees."""
    try:
        with _running, _Captured() as captured:
            _current[0] = (program, space_key, threading.get_ident())
            try:
                result = _run(program, space_key, initializer, flavour, task)
            finally:
                with _current_lock:
                    _current[0] = None
    except Abandoned:
        _current[0] = None
        return None  # its program is gone: nobody reads the result
    return _send(result, flavour, captured.output)


def _run(program, space_key, initializer, flavour, task):
    space = _enter(space_key)
    if space.module is None and space.error is None:
        _prepare(space, program, initializer)
    if space.error is not None:
        # None: not the task's own failure (an executor is broken by it)
        return (None, _wrap(space.error, flavour))
    try:
        func, args, kwds = pickle.loads(task)
        # the line a remote traceback shows, as multiprocessing's
        return (True, func(*args, **kwds))
    except Abandoned:
        raise
    except BaseException as exc:
        return (False, _wrap(exc, flavour))


class Abandoned(BaseException):
    """Raised in a task whose program has exited (abandon)."""


_current = [None]  # (program, space key, thread id) of the task running here
_current_lock = threading.Lock()  # an Abandoned is raised only inside run()
ABANDON_GRACE = 0.5  # seconds a task has to stop before its process ends


def abandon(key):
    """The program (key: its name) exited, or its pool (the space's key)
    was terminated, with a task of its running here (client.run calls
    it, on the worker's event loop): nothing of a program runs after it
    ends, and a terminated pool's tasks stop, as its processes do.  Dask cannot stop a thread: the task gets
    Abandoned at its next line of Python; one still running after the
    grace (in C: a sleep, a read) ends with the worker process, which its
    nanny replaces, as when a worker dies; a worker without a nanny
    keeps it running to its end."""
    import ctypes

    with _current_lock:
        current = _current[0]
        if current is None or key not in current[:2]:
            return False
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(current[2]),
                                                   ctypes.py_object(Abandoned))

    def end():
        if _current[0] is current and getattr(_dask_worker(), "nanny", None):
            import os

            os._exit(1)

    threading.Timer(ABANDON_GRACE, end).start()
    return True


def _dask_worker():
    try:
        from distributed import get_worker

        return get_worker()
    except Exception:
        return None

