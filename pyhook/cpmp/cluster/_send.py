"""What goes from the program to a Dask worker (see _client): a task
pickled by cpmp's pickler, refusing what lives only on this machine."""

import pickle
import sys
import threading

LARGE = 1 << 20  # bytes: a buffer this large travels once per worker (_client.keep_large)
_collecting = threading.local()


class LocalOnlyError(pickle.PicklingError):
    """An argument holds an object that works only on this machine."""


_cluster_pickler = [None]


def _local_only_types():
    import multiprocessing.connection
    import multiprocessing.managers
    import multiprocessing.process
    import multiprocessing.queues
    import multiprocessing.sharedctypes
    import multiprocessing.synchronize as sync

    types = [sync.SemLock, sync.Condition, sync.Event, sync.Barrier,
             multiprocessing.queues.Queue, multiprocessing.queues.SimpleQueue,
             multiprocessing.connection.Connection, multiprocessing.managers.BaseProxy,
             multiprocessing.managers.BaseManager, multiprocessing.sharedctypes.SynchronizedBase,
             multiprocessing.process.BaseProcess]
    shared_memory = sys.modules.get("multiprocessing.shared_memory")
    if shared_memory is not None:
        types += [shared_memory.SharedMemory, shared_memory.ShareableList]
    return tuple(types)


def _pickler():
    """cpmp's pickler, refusing what lives only on this machine."""
    if _cluster_pickler[0] is None:
        import io

        from ..core import _reduce, _stash

        base = _reduce.pickler_class()
        override = base.reducer_override

        class ClusterPickler(base):
            local_only = _local_only_types()

            def reducer_override(self, obj):
                if isinstance(obj, self.local_only):
                    raise LocalOnlyError(_local_only_message(obj))
                large = getattr(_collecting, "large", None)
                if large is not None and type(obj) in _buffer_types():
                    reduced = _large(obj, large)
                    if reduced is not None:
                        return reduced
                return override(obj)

        def dumps(objects, offsets):
            buf = io.BytesIO()
            with _stash.inline():  # read on other machines
                pickler = ClusterPickler(buf)
                for obj in objects:
                    offsets.append(buf.tell())
                    pickler.dump(obj)
            return buf.getvalue()

        _cluster_pickler[0] = dumps
    return _cluster_pickler[0]


def dumps(obj):
    """obj, pickled for the workers."""
    return _pickler()((obj,), [])


def dumps_apart(objects, offsets):
    """objects pickled one after the other by one pickler, each loadable
    by one unpickler after those before it, even where one of them fails
    to load, and an object two of them hold loads as one object (_fork).
    The offset of each goes into offsets: when one cannot be pickled, it
    is the last (offsets[-1]) as its exception propagates."""
    return _pickler()(objects, offsets)


def _buffer_types():
    numpy = sys.modules.get("numpy")
    return (bytearray, numpy.ndarray) if numpy is not None else (bytearray,)


def _large(obj, large):
    """A large buffer by its digest: kept once on the cluster for every
    worker (large: the _large.Store and this task's {digest: name}), its
    content as of now, as every send has it; each task loads its own copy
    (_child.large)."""
    try:
        size = obj.nbytes if hasattr(obj, "nbytes") else len(obj)
    except Exception:
        return None
    if size < LARGE:
        return None
    from . import _child

    store, names = large
    digest = _digest(obj)
    name = store.pin(digest) if digest is not None else None
    if name is None:
        _collecting.large = None  # what it holds goes inline
        try:
            blob = dumps(obj)
        finally:
            _collecting.large = large
        digest = digest or _hash(blob)
        name = store.add(digest, blob)
    if digest in names:
        store.release([digest])  # counted once per task
    names[digest] = name
    return _child.large, (digest,)


def _hash(data, head=b""):
    import hashlib

    h = hashlib.sha256(head)
    h.update(data)
    return h.hexdigest()[:32]


def _digest(obj):
    """A contiguous buffer's digest from its bytes, type and layout, without
    pickling it; None for others (their pickle's is taken)."""
    try:
        view = memoryview(obj)  # numpy refuses some dtypes (datetime64, objects)
        dtype = getattr(obj, "dtype", None)
        if not view.c_contiguous or dtype is not None and dtype.hasobject:
            return None
        head = repr((type(obj).__qualname__, str(getattr(obj, "dtype", "")), view.shape,
                     view.format)).encode()
        return _hash(view.cast("B"), head)
    except Exception:
        return None


def _local_only_message(obj):
    t = type(obj)
    return "a %s.%s, which works only on this machine" % (t.__module__, t.__qualname__)


def _is_local_only(exc):
    # multiprocessing's own refusal of a lock or queue outside a spawn
    return isinstance(exc, LocalOnlyError) or (
        isinstance(exc, RuntimeError) and "through inheritance" in str(exc))


def dumps_task(task, labelled, index=0, large=None):
    """task, (func, args, kwargs), pickled for the workers; with large (a
    dict), its large buffers apart, by digest, into it.  labelled:
    [(label, object)] of what it holds, to name the one a refusal comes
    from ("argument 2"); index: its number in a map, for other errors,
    which say where the culprit sits as they do locally (_diagnose)."""
    try:
        _collecting.large = large
        try:
            return dumps(task)
        finally:
            _collecting.large = None
    except Exception as exc:
        if not _is_local_only(exc):
            from ..core import _diagnose, _reduce

            func, args, kwargs = task
            _diagnose.annotate(exc, (0, index, func, args, kwargs), _reduce.pickler_class())
            raise
        for label, obj in labelled:
            try:
                dumps(obj)
            except Exception as inner:
                if _is_local_only(inner):
                    raise LocalOnlyError("cpmp: %s holds %s: it cannot go to the Dask "
                                         "cluster (run without --cluster)"
                                         % (label, _what(inner))) from None
        raise LocalOnlyError("cpmp: the task holds %s: it cannot go to the Dask cluster (run "
                             "without --cluster)" % _what(exc)) from None


def _what(exc):
    if isinstance(exc, LocalOnlyError):
        return str(exc)
    return "an object that works only on this machine (%s)" % exc
