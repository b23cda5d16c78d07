"""multiprocessing.pool.Pool on a Dask cluster (see _client).

A subclass of the stock Pool whose tasks are Dask tasks: the stock result
objects (ApplyResult, MapResult, IMapIterator) carry the results, so get(),
wait(), ready(), successful(), timeouts, callbacks and exceptions (with
the remote traceback as __cause__) are multiprocessing's own.  Tasks are
the stock ones too (mapstar, starmapstar over chunks of chunksize items).
Each map-like call feeds its tasks from a thread of its own, as the stock
task handler does, keeping a bounded number in flight: imap over an endless
generator takes items only as results are consumed.  One difference, on
purpose: terminate() fails the results still pending instead of leaving
their get() waiting forever.
"""

import threading
import warnings
from multiprocessing import pool as _mp_pool

from . import _client, _send, _space

_LocalPool = _mp_pool.Pool
RUN, CLOSE, TERMINATE = _mp_pool.RUN, _mp_pool.CLOSE, _mp_pool.TERMINATE


class _Slots:
    """At most n tasks of one call in flight (taken by the feeder, given
    back as results complete, or for imap as they are consumed)."""

    def __init__(self, n):
        self.sem = threading.BoundedSemaphore(n)

    def take(self, pool):
        while not self.sem.acquire(timeout=0.2):
            if pool._state == TERMINATE:
                return False
        return pool._state != TERMINATE

    def give(self):
        try:
            self.sem.release()
        except ValueError:
            pass


class _IMapIterator(_mp_pool.IMapIterator):
    slots = None

    def next(self, timeout=None):
        item = super().next(timeout)
        if self.slots is not None:
            self.slots.give()
        return item

    __next__ = next


class _IMapUnorderedIterator(_mp_pool.IMapUnorderedIterator, _IMapIterator):
    pass


class ClusterPool(_LocalPool):
    """A multiprocessing Pool whose workers are the Dask cluster's."""

    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None,
                 context=None):
        self._state = getattr(_mp_pool, "INIT", "INIT")
        self._pool = []
        if processes is not None and processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (type(maxtasksperchild) is not int
                                             or maxtasksperchild <= 0):
            raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        from multiprocessing import get_context

        self._ctx = context or get_context()
        self._conn = _client.connection()
        self._processes = processes or self._conn.workers
        self._maxtasksperchild = maxtasksperchild
        self._space = _space.Space(self._conn, initializer, initargs, processes, "pool",
                                   self._ctx.get_start_method())
        self._cache = {}
        self._lock = threading.Condition()
        self._outstanding = {}  # _space.Task -> (result, index, slots)
        self._feeding = 0
        self._state = RUN

    def __repr__(self):
        return "<%s.%s state=%s cluster=%s>" % (type(self).__module__, type(self).__qualname__,
                                                self._state, self._conn.address)

    # --- submitting ---------------------------------------------------------

    def _submit(self, result, index, func, args, kwds, labelled, slots=None):
        """Send one task; its outcome goes to result._set(index, ...)."""
        try:
            large = (self._conn.large, {})
            try:
                blob = _send.dumps_task((func, args, kwds), labelled, index, large)
            except BaseException:
                self._conn.large.release(large[1])
                raise
            with self._lock:
                if self._state == TERMINATE:
                    self._conn.large.release(large[1])
                    raise _client.ClusterError("the pool was terminated")
                task = self._conn.submit(self._space, blob,
                                         _client.task_name(labelled[0][1]), self._finished,
                                         large[1])
                self._outstanding[task] = (result, index, slots)
        except Exception as exc:
            self._set(result, index, (False, exc), slots)

    def _finished(self, task, ok, value):
        with self._lock:
            entry = self._outstanding.pop(task, None)
            if not self._outstanding:
                self._lock.notify_all()
        if entry is not None:
            result, index, slots = entry
            self._set(result, index, (bool(ok), value), slots)

    def _set(self, result, index, outcome, slots):
        with self._lock:
            result._set(index, outcome)
        if slots is not None and not isinstance(result, _IMapIterator):
            slots.give()

    def _feed(self, result, mapper, func, batches, set_length=None, slots=None):
        """Submit every task of one call, from a thread of its own."""
        slots = slots or _Slots(self._in_flight())

        def feed():
            i, offset, it = -1, 0, iter(batches)
            try:
                # A slot first, then the next batch: the iterable is read
                # no further ahead than the tasks in flight.
                while slots.take(self):
                    batch = next(it, None)
                    if batch is None:
                        slots.give()
                        break
                    i += 1
                    labelled = [("the function", func)] + [
                        ("item %d" % n, x) for n, x in enumerate(batch[1], offset)]
                    offset += len(batch[1])
                    self._submit(result, i, mapper, (batch,), {}, labelled, slots)
            except Exception as exc:
                i += 1
                self._set(result, i, (False, exc), None)
            finally:
                if set_length is not None:
                    set_length(i + 1)
                with self._lock:
                    self._feeding -= 1
                    self._lock.notify_all()

        with self._lock:
            self._feeding += 1
        threading.Thread(target=feed, name="cpmp-feeder", daemon=True).start()
        return result

    def _in_flight(self):
        return max(4 * self._processes, 16)

    # --- the API --------------------------------------------------------------

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        self._check_running()
        result = _mp_pool.ApplyResult(self, callback, error_callback)
        labelled = [("the function", func)] + [
            ("argument %d" % (n + 1), a) for n, a in enumerate(args)] + [
            ("argument %s=" % k, v) for k, v in dict(kwds).items()]
        self._submit(result, 0, func, tuple(args), dict(kwds), labelled)
        return result

    def _map_async(self, func, iterable, mapper, chunksize=None, callback=None,
                   error_callback=None):
        self._check_running()
        if not hasattr(iterable, "__len__"):
            iterable = list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(iterable), self._processes * 4)
            if extra:
                chunksize += 1
        if len(iterable) == 0:
            chunksize = 0
        result = _mp_pool.MapResult(self, chunksize, len(iterable), callback,
                                    error_callback=error_callback)
        if chunksize:
            self._feed(result, mapper, func, _LocalPool._get_tasks(func, iterable, chunksize))
        return result

    def _imap(self, iterator_class, func, iterable, chunksize):
        self._check_running()
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        result = iterator_class(self)
        result.slots = _Slots(self._in_flight())
        self._feed(result, _mp_pool.mapstar, func,
                   _LocalPool._get_tasks(func, iterable, chunksize), result._set_length,
                   result.slots)
        return (item for chunk in result for item in chunk)

    def imap(self, func, iterable, chunksize=1):
        return self._imap(_IMapIterator, func, iterable, chunksize)

    def imap_unordered(self, func, iterable, chunksize=1):
        return self._imap(_IMapUnorderedIterator, func, iterable, chunksize)

    def close(self):
        if self._state == RUN:
            self._state = CLOSE

    def terminate(self):
        with self._lock:
            self._state = TERMINATE
            outstanding, self._outstanding = self._outstanding, {}
        error = _client.ClusterError("the pool was terminated before the task finished")
        for task, (result, index, slots) in outstanding.items():
            _client.cancel(task)
            self._set(result, index, (False, error), slots)
        if outstanding and self._space is not None:
            # its running tasks stop, as a local pool's processes are killed
            self._conn.abandon(outstanding, self._space.key)
        self._forget()

    def join(self):
        if self._state == RUN:
            raise ValueError("Pool is still running")
        if self._state not in (CLOSE, TERMINATE):
            raise ValueError("In unknown state")
        with self._lock:
            while self._feeding or self._outstanding:
                self._lock.wait()
        self._forget()

    def _forget(self):
        space, self._space = getattr(self, "_space", None), None
        if space is not None:
            self._conn.forget(space)

    def __del__(self, _warn=warnings.warn):
        if getattr(self, "_state", None) == RUN:
            _warn("unclosed running multiprocessing pool %r" % self, ResourceWarning,
                          source=self)

