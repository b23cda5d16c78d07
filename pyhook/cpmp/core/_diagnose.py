"""Where an unpicklable object sits: loaded only once pickling has failed.

    TypeError: cannot pickle '_thread.lock' object — at: task args[0] → Job.conn → Connection._lock

The exception keeps its type (existing except clauses still work); only its
message grows.  The path is found by pickling parts of the failed payload
again, children first, down to the smallest part that fails by itself.
"""

import types

_MAX_DEPTH = 24
_MAX_CHILDREN = 512
_SEP = " \N{RIGHTWARDS ARROW} "


def annotate(exc, obj, pickler):
    """Add the path to obj's unpicklable part to exc's message, in place.
    pickler: the ForkingPickler class that failed."""
    try:
        dumps = _side_effect_free_dumps(pickler)
        path = _culprit(obj, dumps, _roots(obj, dumps.table), 0, set())
    except Exception:
        return  # the diagnosis must never hide the original error
    if not path or not exc.args or not isinstance(exc.args[0], str):
        return
    exc.args = ("%s \N{EM DASH} at: %s" % (exc.args[0], _SEP.join(path)),) + exc.args[1:]


def _stub(obj):
    return int, ()


def _side_effect_free_dumps(pickler):
    """Pickling again must change nothing: multiprocessing's reducers for
    connections, sockets and shared memory duplicate file descriptors, so
    every registered reducer but cpmp's own is replaced by a stub (what is
    registered is picklable by design)."""
    import copyreg
    import io

    from . import _reduce

    table = dict(copyreg.dispatch_table)
    # The program's reducers, stubbed, still win over cpmp's own, which
    # reducer_override applies (_reduce.REDUCERS).
    table.update((t, _stub) for t in pickler._extra_reducers)

    def dumps(obj):
        p = pickler(io.BytesIO())
        p.dispatch_table = table
        p.dump(obj)
    dumps.table = dict(table)  # the types with a reducer, cpmp's too
    dumps.table.update(_reduce.REDUCERS)
    return dumps


def _fails(obj, dumps):
    try:
        dumps(obj)
    except Exception:
        return True
    return False


def _culprit(obj, dumps, children, depth, seen):
    """Labels from obj down to the smallest failing part, or None if obj
    pickles.  children: [(labels, child)] to look into."""
    if id(obj) in seen or depth > _MAX_DEPTH or not _fails(obj, dumps):
        return None
    seen.add(id(obj))
    for labels, child in children[:_MAX_CHILDREN]:
        below = _culprit(child, dumps, _children(child, dumps.table), depth + 1, seen)
        if below is not None:
            return _join(labels, below)
    return []


def _join(labels, below):
    """A container index continues the segment before it; an attribute
    starts a new one ('args[0]', then 'Job.conn')."""
    out = list(labels)
    for label in below:
        if label.startswith("[") and out:
            out[-1] += label
        else:
            out.append(label)
    return out


def _roots(obj, table):
    """Name the parts of multiprocessing's own messages by their role."""
    t = type(obj)
    if t is tuple and len(obj) == 5 and isinstance(obj[3], tuple) and isinstance(obj[4], dict):
        job, i, func, args, kwds = obj  # a Pool task
        if getattr(func, "__name__", None) in ("mapstar", "starmapstar") and len(args) == 1:
            fn, chunk = args[0]
            return ([(["map function"], fn)]
                    + [(["map chunk %d item [%d]" % (i, n)], x) for n, x in enumerate(chunk)])
        return ([(["task function"], func)]
                + [(["task args[%d]" % n], a) for n, a in enumerate(args)]
                + [(["task kwargs[%r]" % k], v) for k, v in kwds.items()])
    if t is tuple and len(obj) == 3 and isinstance(obj[2], tuple) and len(obj[2]) == 2:
        return [(["result"], obj[2][1])]  # a Pool result: (job, i, (ok, value))
    name = t.__name__
    if name == "_CallItem":  # concurrent.futures
        return ([(["task function"], obj.fn)]
                + [(["task args[%d]" % n], a) for n, a in enumerate(obj.args)]
                + [(["task kwargs[%r]" % k], v) for k, v in obj.kwargs.items()])
    if name == "_ResultItem":
        return [(["result"], obj.result)]
    return _children(obj, table)


def _children(obj, table):
    """[(labels, part)] of obj to look into; none when obj itself is what
    cannot be pickled (an SSLSocket holds an unpicklable SSLContext, but
    refuses to be pickled before that matters)."""
    t = type(obj)
    if t in (tuple, list):
        return [(["[%d]" % n], x) for n, x in enumerate(obj)]
    if t is dict:
        return [(["[%r]" % (k,)], v) for k, v in obj.items()]
    if t in (set, frozenset):
        return [(["{%r}" % (x,)], x) for x in obj]
    if t is types.FunctionType:
        cells = obj.__closure__ or ()
        out = []
        for name, cell in zip(obj.__code__.co_freevars, cells):
            try:
                out.append((["%s closure %s" % (obj.__qualname__, name)], cell.cell_contents))
            except ValueError:
                pass
        return out + [(["%s.%s" % (obj.__qualname__, "__defaults__")], obj.__defaults__)]
    if t is types.MethodType:
        return [(["%s.__self__" % obj.__qualname__], obj.__self__)]
    if t not in table and _refuses_itself(obj):
        return []
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        return [(["%s.%s" % (t.__name__, k)], v) for k, v in state.items()]
    slots = [s for c in t.__mro__ for s in getattr(c, "__slots__", ()) if isinstance(s, str)]
    return [(["%s.%s" % (t.__name__, s)], getattr(obj, s)) for s in slots if hasattr(obj, s)]


def _refuses_itself(obj):
    try:
        obj.__reduce_ex__(4)
    except Exception:
        return True
    return False
