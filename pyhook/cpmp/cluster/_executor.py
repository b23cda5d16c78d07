"""concurrent.futures.ProcessPoolExecutor on a Dask cluster (see _client).

Its futures are concurrent.futures.Future objects, so result(), exception(),
cancel(), add_done_callback(), as_completed() and wait() are the standard
library's own; map() is the stock ProcessPoolExecutor.map (chunks of
chunksize calls, timeout from the call).  A task's exception arrives with
its remote traceback as __cause__; a failed initializer or a lost
scheduler breaks the executor (BrokenProcessPool), as a worker that dies
does locally.  A future is cancellable until its result arrives: all the
executor's tasks are queued on the cluster, none is pinned to a process.
"""

import functools
import threading
from concurrent.futures import _base
from concurrent.futures import process as _cf_process

from . import _client, _send, _space


class ClusterExecutor(_cf_process.ProcessPoolExecutor):
    """A ProcessPoolExecutor whose workers are the Dask cluster's."""

    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(), *,
                 max_tasks_per_child=None):
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if max_tasks_per_child is not None and (type(max_tasks_per_child) is not int
                                                or max_tasks_per_child <= 0):
            raise ValueError("max_tasks_per_child must be >= 1")
        self._shutdown_lock = threading.Condition()
        self._shutdown_thread = False
        self._broken = False
        self._pending = {}  # _space.Task -> concurrent.futures.Future
        self._mp_context = mp_context
        self._conn = _client.connection()
        self._max_workers = max_workers or self._conn.workers
        method = (mp_context or _mp_context()).get_start_method()
        self._space = _space.Space(self._conn, initializer, initargs, max_workers, "executor",
                                   method)

    def submit(self, fn, /, *args, **kwargs):
        with self._shutdown_lock:
            if self._broken:
                raise _cf_process.BrokenProcessPool(self._broken)
            if self._shutdown_thread:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if getattr(_cf_process, "_global_shutdown", False):
                raise RuntimeError("cannot schedule new futures after interpreter shutdown")
            future = _base.Future()
            try:
                large = (self._conn.large, {})
                try:
                    blob = _send.dumps_task((fn, args, kwargs), _labels(fn, args, kwargs), 0,
                                            large)
                except BaseException:
                    self._conn.large.release(large[1])
                    raise
                task = self._conn.submit(self._space, blob, _name(fn), self._finished, large[1])
            except Exception as exc:
                future.set_exception(exc)
                return future
            self._pending[task] = future
        future.add_done_callback(functools.partial(self._maybe_cancelled, task))
        return future

    submit.__doc__ = _base.Executor.submit.__doc__

    def _maybe_cancelled(self, task, future):
        if future.cancelled():
            with self._shutdown_lock:
                self._pending.pop(task, None)
                self._shutdown_lock.notify_all()
            _client.cancel(task)

    def _finished(self, task, ok, value):
        with self._shutdown_lock:
            future = self._pending.pop(task, None)
            if ok is None:
                self._break(value)
            self._shutdown_lock.notify_all()
        if future is None or not future.set_running_or_notify_cancel():
            return
        if ok:
            future.set_result(value)
        elif ok is None:
            future.set_exception(_broken_error(value))
        else:
            future.set_exception(value)

    def _break(self, cause):
        """No more tasks: the pool cannot run them (lock held)."""
        if self._broken:
            return
        self._broken = ("A child process terminated abruptly, the process pool is not usable "
                        "anymore")
        pending, self._pending = self._pending, {}
        for task, future in pending.items():
            _client.cancel(task)
            if future.set_running_or_notify_cancel():
                future.set_exception(_broken_error(cause))

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._shutdown_thread = True
            pending = list(self._pending.values()) if cancel_futures else ()
        for future in pending:
            future.cancel()
        if wait:
            with self._shutdown_lock:
                while self._pending:
                    self._shutdown_lock.wait()
        space, self._space = self._space, None
        if space is not None:
            self._conn.forget(space)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__


def _mp_context():
    import multiprocessing

    return multiprocessing.get_context()


def _broken_error(cause):
    error = _cf_process.BrokenProcessPool(
        "A process in the process pool was terminated abruptly while the future was running "
        "or pending.")
    error.__cause__ = cause
    return error


def _labels(fn, args, kwargs):
    if isinstance(fn, functools.partial) and fn.func is _cf_process._process_chunk:
        return [("the function", fn.args[0] if fn.args else fn)] + [
            ("an item of the map", a) for a in args]
    return [("the function", fn)] + [("argument %d" % (n + 1), a) for n, a in enumerate(args)] \
        + [("argument %s=" % k, v) for k, v in kwargs.items()]


def _name(fn):
    if isinstance(fn, functools.partial):
        fn = fn.args[0] if fn.func is _cf_process._process_chunk and fn.args else fn.func
    return _client.task_name(fn)
