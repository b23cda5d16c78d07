"""A pool's own process on a Dask worker (see _worker, which starts it):
what a local pool's worker process is, on the cluster.

It is a fresh interpreter of the worker's Python, started with the
program's environment variables, working directory and interpreter flags
as they were when the pool was made (_space.program), with fds 0-2 its
own (stdin /dev/null, stdout and stderr pipes the worker forwards to the
program with each result).  It makes the main module as a spawn child does
(the script re-run as ``__mp_main__``), for a fork pool puts in it what the
program's main module bound when the pool was made, runs the initializer,
then runs the pool's tasks one after the other in its main thread, as
long as the worker keeps the lifeline open: when the worker goes, the
pool's processes go too, its own children with them.
"""

import os
import pickle
import sys
import threading


def main(ctl_fd, life_fd):
    _lifeline(life_fd)
    from multiprocessing.connection import Connection

    conn = Connection(ctl_fd)
    setup = pickle.loads(conn.recv_bytes())
    flavour = setup["flavour"]
    # A Pool's processes are daemonic, an executor's are not: a task can
    # start processes of its own where it can locally.
    from multiprocessing import current_process

    current_process().daemon = flavour == "pool"
    error = _prepare(setup)
    while True:
        try:
            task = _next_task(conn)
        except (EOFError, OSError):
            break
        if task is None:
            break  # the pool ended: exit as a local pool's worker does
        if error is not None:
            # None: not the task's own failure (an executor is broken by it)
            result = (None, _wrap(error, flavour))
        else:
            result = _call(task, flavour, setup.get("unsent", {}))
        _flush()
        conn.send_bytes(_dumps(result, flavour))


_blobs = {}  # digest -> a large buffer's pickle (_send._large), as the worker sent it


def large(digest):
    """A large buffer a task carries by its digest: loaded afresh for each
    task, as its own copy would be."""
    return pickle.loads(_blobs[digest])


def _next_task(conn):
    """The next task's bytes, or None at the end; the worker sends first
    the large buffers it needs that this process does not have yet ("L"
    DIGEST, then the bytes), and drops those it will not send again ("D"
    DIGEST), so that both keep the same ones."""
    while True:
        frame = conn.recv_bytes()
        kind = frame[:1]
        if kind == b"T":
            return memoryview(frame)[1:]
        if kind == b"L":
            _blobs[frame[1:].decode()] = conn.recv_bytes()
        elif kind == b"D":
            _blobs.pop(frame[1:].decode(), None)
        else:
            return None


def _lifeline(fd):
    """The worker holds the other end: when it closes (the pool ended, the
    worker died), this process and its children end at once."""
    def watch():
        try:
            os.read(fd, 1)
        finally:
            os.killpg(os.getpgid(0), 9)

    threading.Thread(target=watch, name="cpmp-lifeline", daemon=True).start()


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _prepare(setup):
    """The program's sys.path and argv, its main module, a fork pool's
    bindings, the initializer; what any of it raised, or None."""
    try:
        program = setup["program"]
        mine = [p for p in sys.path if p and p not in program["sys_path"]]
        sys.path[:] = program["sys_path"] + mine
        sys.argv[:] = program["argv"]
        module = _main_module(program, setup.get("bindings") is not None)
        if setup.get("bindings") is not None:
            from . import _fork

            _fork.restore(module, setup["bindings"], setup.setdefault("unsent", {}))
        if setup.get("initializer") is not None:
            func, args = pickle.loads(setup["initializer"])
            func(*args)
    except BaseException as exc:
        return exc
    return None


def _main_module(program, fork):
    """A fresh __mp_main__, also __main__, as a spawn child makes it: the
    script's source (the file need not exist here), or the module of
    ``python -m``, or nothing (-c, stdin, a notebook).  For a fork pool
    (see _fork), as a forked worker has it: what it prints is not shown,
    and it stops where it would start a process (a script without the
    ``__main__`` guard: its pool).  Then _fork restores what the
    program's main module bound."""
    import builtins
    from types import ModuleType

    module = ModuleType("__mp_main__")
    module.__builtins__ = builtins
    sys.modules["__main__"] = sys.modules["__mp_main__"] = module
    path, source, name = program.get("path"), program.get("source"), program.get("name")
    if source is not None:
        module.__file__ = path
        _remember_source(path, source)
        _run(lambda: exec(compile(source, path, "exec"), module.__dict__), fork)
    elif name is not None:
        import runpy

        _run(lambda: module.__dict__.update(
            runpy.run_module(name, run_name="__mp_main__", alter_sys=False)), fork)
    return module


class _Started(BaseException):
    """The main script of a fork pool started a process."""


def _run(make, fork):
    from multiprocessing import process

    if not fork:
        # as in a spawn child: a process started now says what to do
        process.current_process()._inheriting = True
        try:
            return make()
        finally:
            del process.current_process()._inheriting
    def start(self):
        raise _Started()

    # fds 1 and 2 to /dev/null, not sys.stdout and sys.stderr: a logging
    # handler the script makes keeps the real ones
    saved, original = [os.dup(1), os.dup(2)], process.BaseProcess.start
    null = os.open(os.devnull, os.O_WRONLY)
    _flush()
    os.dup2(null, 1)
    os.dup2(null, 2)
    process.BaseProcess.start = start
    try:
        make()
    except _Started:
        pass
    finally:
        process.BaseProcess.start = original
        _flush()
        for fd in (1, 2):
            os.dup2(saved[fd - 1], fd)
            os.close(saved[fd - 1])
        os.close(null)


def _remember_source(path, source):
    """Tracebacks show the script's lines even where the file is absent."""
    import linecache

    if not os.path.isfile(path):
        text = source.decode("utf-8", "replace")
        linecache.cache[path] = (len(text), None, text.splitlines(True), path)


def _call(task, flavour, unsent):
    try:
        func, args, kwds = pickle.loads(task)
        # the line a remote traceback shows, as multiprocessing's
        return (True, func(*args, **kwds))
    except BaseException as exc:
        if isinstance(exc, NameError) and getattr(exc, "name", None) in unsent:
            exc = _unsent(exc, unsent[exc.name])
        return (False, _wrap(exc, flavour))


def _unsent(exc, why):
    """A fork pool's main-module binding that could not be sent, read by a
    task: one line naming it, where it is read."""
    error = NameError("cpmp: the main module's %r could not go to the Dask cluster with the "
                      "pool (%s)" % (exc.name, why), name=exc.name)
    error.__traceback__ = exc.__traceback__
    return error


def _wrap(exc, flavour):
    """The exception as the pool's own worker sends it: with its traceback,
    which the client gets as __cause__."""
    if flavour == "pool":
        from multiprocessing.pool import ExceptionWithTraceback
    else:
        from concurrent.futures.process import _ExceptionWithTraceback as ExceptionWithTraceback
    return ExceptionWithTraceback(exc, exc.__traceback__)


def _dumps(result, flavour):
    from ..core._reduce import dumps

    try:
        return dumps(result)
    except Exception as exc:
        if flavour == "pool" and result[0]:
            from multiprocessing.pool import MaybeEncodingError

            return dumps((False, MaybeEncodingError(exc, result[1])))
        return dumps((False, _wrap(exc, flavour)))
