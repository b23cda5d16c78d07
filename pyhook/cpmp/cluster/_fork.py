"""A fork pool's copy of the program's main module (see _space, _child):
what a forked worker has, as far as it can travel.

Everything the main module binds when the pool is made goes in one
pickle, so that one object under two names stays one object (``ALIAS =
[CONFIG]``: ``ALIAS[0] is CONFIG``), with the state of the module's own
top-level classes and functions: those go by reference, to the copies the
pool's process makes by re-running the script, and a forked worker would
see what the main block set on them (``Config.level = 20``,
``work.__defaults__``).  A name the main block deleted is not there
either.  A value that cannot go is left out, and named when a task reads
it (_child._unsent); an attribute that cannot go leaves the re-run one.
"""

import sys
import types

# Names of a module, a class or a function that are its own, not state.
MODULE_OWN = frozenset(("__builtins__", "__cached__", "__doc__", "__file__", "__loader__",
                        "__name__", "__package__", "__spec__"))
_CLASS_OWN = frozenset(("__dict__", "__weakref__", "__module__", "__qualname__", "__doc__",
                        "_abc_impl"))
_DEFAULTS = ("__defaults__", "__kwdefaults__")


def snapshot(send):
    """(what the pool's processes restore from, {name: why}): the main
    module's bindings and its definitions' state; why each binding that
    cannot go did not, in one line.  Each value is pickled apart, so that
    one that does not load on a worker leaves the others in place, but
    by one pickler, so that an object two of them hold stays one (send:
    the sender, _send, which this receiver's module does not import)."""
    main = sys.modules.get("__main__")
    items = [(n, v) for n, v in list(getattr(main, "__dict__", {}).items())
             if n not in MODULE_OWN]
    items += [((n, a), v) for n, value in items for a, v in _own_state(n, value)]
    unsent, swept = {}, False
    while True:
        offsets = []
        try:
            blob = send.dumps_apart([v for _, v in items], offsets)
            return ([k for k, _ in items], blob, offsets), unsent
        except Exception as exc:
            failed = {len(offsets) - 1: exc}
        if not swept:  # the others that cannot go either, at once
            swept = True
            for i in range(len(offsets), len(items)):
                try:
                    send.dumps(items[i][1])
                except Exception as exc:
                    failed[i] = exc
        for i in sorted(failed, reverse=True):
            key = items.pop(i)[0]
            if isinstance(key, str):
                unsent[key] = _why(failed[i])


def _why(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text.splitlines()[0] if text else "")


def _own_state(name, value):
    """[(attribute, value)] of a top-level class or function of the main
    module that the receiver re-makes itself: what the program may have
    set on it since."""
    from ..core import _policy

    is_function = isinstance(value, types.FunctionType)
    if not (is_function or isinstance(value, type)) or name != value.__qualname__ \
            or value.__module__ != "__main__" or _policy.by_value_reason(value, is_function):
        return []
    if is_function:
        own = [(a, getattr(value, a)) for a in _DEFAULTS if getattr(value, a) is not None]
        return own + [(a, v) for a, v in vars(value).items() if not _dunder(a)]
    enum = sys.modules.get("enum")
    if enum is not None and issubclass(value, enum.Enum):
        return []  # its members are fixed
    return [(a, v) for a, v in vars(value).items()
            if a not in _CLASS_OWN and not _defined_there(value, a, v)
            and not (_dunder(a) and not isinstance(v, types.FunctionType))]


def _dunder(name):
    return name.startswith("__") and name.endswith("__")


def _defined_there(cls, name, value):
    """Whether value is the method the class body defines as name: the
    receiver's class has its own."""
    func = getattr(value, "__func__", value)
    for f in (func, getattr(value, "fget", None)):
        if isinstance(f, types.FunctionType):
            return f.__module__ == cls.__module__ and \
                f.__qualname__.rsplit(".", 1)[0] == cls.__qualname__
    return False


def restore(module, snapshot, unsent):
    """Make module (the re-run main module) what snapshot says; a binding
    that does not load here is unsent."""
    import io
    import pickle

    keys, blob, offsets = snapshot
    stream = io.BytesIO(blob)
    loader, state, first = pickle.Unpickler(stream), {}, None
    for key, offset in zip(keys, offsets):
        stream.seek(offset)
        try:
            state[key] = loader.load()
        except Exception as exc:
            why = "it does not load on the worker: %s" % _why(exc)
            if first is not None and "Memo value not found" in str(exc):
                why = "it holds what did not load on the worker: %s" % first
            first = first or _why(exc)
            if isinstance(key, str):
                unsent[key] = why
            # a fresh one: a failed load leaves an unpickler's stack behind
            memo, loader = loader.memo, pickle.Unpickler(stream)
            loader.memo = memo
    module.__name__ = "__main__"  # as a forked worker's
    for name in [n for n in module.__dict__ if n not in MODULE_OWN]:
        if name not in state and name not in unsent:
            del module.__dict__[name]  # deleted by the main block
    for key, value in state.items():
        if isinstance(key, str):
            module.__dict__[key] = value
    for key, value in state.items():
        if not isinstance(key, str) and key[0] in state:
            owner, attr = state[key[0]], key[1]
            try:
                if attr in _DEFAULTS or getattr(owner, attr, None) is not value:
                    setattr(owner, attr, value)
            except Exception:
                pass  # a read-only attribute: the re-run one stays
