"""Which objects a receiver already holds: the main module's objects that a
process forked from this one has its own copy of.

The standard pickler sends a main-block class or a ``-c`` function by
reference, and under fork that works: the worker was forked after the
definition and finds its own copy under the same name.  cpmp keeps that
(identity, ``isinstance``, a lock or an ``mp.Value`` inherited through fork,
a large global not copied again) without trusting names, which the loop
variable of the main block shows to be wrong: a name rebound after the fork
holds a different object in the sender than in the worker.

So the references are to *objects*, not names.  At every fork, this
process pins each object its main module binds under a key (this process's
token, a serial number): by a weak reference where the object takes one
(a pin never keeps a class, a file or an executor alive: they die, close
and finalize when the program drops them), else by a strong one, so that
the object's address is never reused while it is pinned.  A child forked afterwards inherits the table and so holds
every key with its own copy of the object; a child forked before, a spawned
child, or any other process does not.  The sender writes the key, and the
value as a fallback (pickled bytes the receiver loads only when it lacks the
key) unless it can prove every process that may read the message holds the
key (may_omit).  The receiver resolves the key in its own table (_receive).

A pin goes when its object dies (weak), or (strong) at the next fork once
the main module no longer binds it -- unless it was sent without a
fallback while children live -- and at exit.  Definitions (functions,
classes) take weak references: the owner keeps its pin as long as it
keeps the definition.
"""

import os
import sys
import weakref
from types import FunctionType

_token = os.urandom(8)  # this process; a forked child takes a new one
_serial = 0
_pins = {}  # id(obj) -> key, for every pinned object this process holds
_table = {}  # key -> obj or weakref to it: this process's pins and inherited ones
_older = {}  # own key -> ids of the children forked before it was pinned
_sent_bare = set()  # own keys sent without a fallback
# Bumped each time this process starts a spawn or forkserver child: a send
# cached without fallbacks is stale after that (see _resend).
generation = [0]
# True once this process sends to processes it never forked (a Dask
# cluster, see _cluster): from then on every held reference has a fallback.
_off_machine = [False]


def _is_definition(obj):
    return type(obj) is FunctionType or isinstance(obj, type)


def _live_children():
    process = sys.modules.get("multiprocessing.process")
    if process is None:
        return ()
    return list(process._children)


def _before_fork():
    """Pin what the main module binds, so the child being forked holds it.
    Never in the way of a fork: what could not be pinned goes by value."""
    try:
        _pin_main()
    except Exception:
        pass


def _pin_main():
    global _serial
    main = sys.modules.get("__main__")
    if main is None:
        return
    children = frozenset(id(c) for c in _live_children())
    bound = set()
    for value in list(vars(main).values()):
        key = _pins.get(id(value))
        if key is None:
            _serial += 1
            key = (_token, _serial)
            _pin(value, key)
            _older[key] = children
        bound.add(key)
    _drop_unbound(bound, children)


def _pin(value, key):
    try:
        ref = weakref.ref(value, _forget_callback(id(value), key))
    except TypeError:
        ref = value  # no weak reference: pinned, strongly
    _pins[id(value)] = key
    _table[key] = ref


def _forget_callback(ident, key):
    # Holds what it needs: at exit, module globals may be gone.
    pins, table, older = _pins, _table, _older

    def forget(ref):
        if pins.get(ident) == key:
            del pins[ident]
        table.pop(key, None)
        older.pop(key, None)
    return forget


def _drop_unbound(bound, children):
    for key in [k for k in _older if k not in bound]:
        value = _table[key]
        if type(value) is weakref.ref or (key in _sent_bare and children):
            continue  # goes when it dies, or still needed
        del _table[key], _older[key]
        _pins.pop(id(value), None)
        _sent_bare.discard(key)


def _at_exit():
    """Strong pins go before the interpreter tears modules down, so
    nothing outlives the main module because of them."""
    for key in [k for k, v in _table.items() if type(v) is not weakref.ref]:
        _pins.pop(id(_table.pop(key)), None)


def _after_fork_in_child():
    global _token
    try:
        _token = os.urandom(8)
    except OSError:  # no entropy: a token no other process has all the same
        _token = ("%d.%d" % (os.getpid(), id(_table))).encode() + _token
    # What this process decided for its parent's children is not its own.
    _older.clear()
    _sent_bare.clear()
    generation[0] = 0


def started_non_fork_child():
    """A spawn or forkserver child is starting (cpmp's patch of
    multiprocessing.spawn.get_preparation_data calls this)."""
    generation[0] += 1


def sending_off_machine():
    """What this process sends may now reach processes that hold nothing
    of it; cached sends without fallbacks are stale."""
    _off_machine[0] = True
    generation[0] += 1


def install():
    """Start pinning at forks (once per process; _patch calls it)."""
    if not getattr(install, "done", False):
        install.done = True
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        import atexit

        atexit.register(_at_exit)


def key_of(obj):
    """The key under which receivers forked from here hold obj, or None."""
    return _pins.get(id(obj))


def _popen_is_fork(child):
    popen = getattr(child, "_popen", None)
    return popen is not None and type(popen).__module__ == "multiprocessing.popen_fork"


def may_omit(key):
    """Whether every process that may read what this one sends now holds key.

    This process's own key: its parent does not hold it, so only a process
    that multiprocessing did not start (the program itself), whose live
    children were all forked after the pin.  An inherited key of a
    definition (never dropped by its owner): when every live child was
    forked, since each inherited it from here.  An inherited key of other
    data may be dropped by its owner: never.  Nothing, once this process
    sends to a cluster.
    """
    if _off_machine[0]:
        return False
    if key[0] == _token:
        process = sys.modules.get("multiprocessing.process")
        if process is not None and process.parent_process() is not None:
            return False
        older = _older.get(key, ())
    elif _is_definition(resolve(key)):
        older = ()
    else:
        return False
    for child in _live_children():
        if not _popen_is_fork(child) or id(child) in older:
            return False
    if key[0] == _token:
        _sent_bare.add(key)
    return True


def resolve(key, default=None):
    """This process's copy of the object pinned under key, or default."""
    value = _table.get(key, _table)
    if type(value) is weakref.ref:
        value = value()
        return default if value is None else value
    return default if value is _table else value
