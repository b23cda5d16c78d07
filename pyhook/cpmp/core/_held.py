"""Which objects a receiver already holds: the main module's objects that a
process forked from this one has its own copy of.

The standard pickler sends a main-block class or a ``-c`` function by
reference, and under fork that works: the worker was forked after the
definition and finds its own copy under the same name.  cpmp keeps that
(identity, ``isinstance``, a lock or an ``mp.Value`` inherited through fork,
a large array not copied again) without trusting names, which the loop
variable of the main block shows to be wrong: a name rebound after the fork
holds a different object in the sender than in the worker.

So the references are to *objects*, not names.  At every fork, this
process pins, by a weak reference, each object its main module binds that
takes one, under a key (this process's token, a serial number).  A weak
pin never keeps anything alive: a class, a file or an executor dies,
closes and finalizes when the program drops it, and the pin goes with it
(so an address reused by a later object never inherits a key).  A child
forked afterwards inherits the table and so holds every key with its own
copy of the object; a child forked before, a spawned child, or any other
process does not.

What a fork costs: one pass over the main module in this process, before
the fork, in C (_held_fork.c), and nothing in the child, which inherits
the pins and the record of small values (_inherited).  The pass writes
to no object it has seen before (a reference count written after a fork
copies the page holding it while the child lives: that had made a fork
with 10,000 names cost twice python3's), and reads no object bound as at
the last fork but those that take no weak reference, whose type it
checks: a walk of the main dict's table, a few ns a name, 40 ns for each
list, dict or tuple, and work only for the names bound since.  A pin is
one object (a _Pin, 104 bytes) and one entry of _pins, about 220 bytes in
all, made once per object: the main module's instances, functions and
classes, not its lists or numbers.

A reference to a held object is only ever an optimisation of identity:
the sender always writes the object's value as well (the fallback, see
_send), and a receiver that does not hold the key loads that instead.
Nothing here decides who will read a message.  Objects that take no weak
reference (lists, dicts, numbers, strings, tuples) are never pinned: no
reference could prove that the one the sender sees now is the one a
receiver inherited without keeping it alive.
"""

import os
import sys
import weakref

from . import _wire

_token = os.urandom(8)  # this process; a forked child takes a new one
_serial = 0


class _Pin(weakref.ref):
    """A weak pin: its object, and the key a receiver looks its own copy up
    by, (token, serial, ident) -- who pinned it, the how-manieth pin, and
    the object's id in the pinner, under which _pins holds the pin in every
    process forked from it.  One object per pin and one dict entry (the key
    is built when it is sent): a main module binding 50,000 instances had
    cost 27 MB in three tables, and the collector's time over them."""
    __slots__ = ("token", "serial", "ident")


_pins = {}  # id(obj) -> its _Pin: this process's pins and inherited ones


def _before_fork():
    """Pin what the main module binds, so the child being forked holds it,
    and note what it binds to small values, for the child (_inherited).
    Never in the way of a fork: what could not be pinned goes by value."""
    global _snapshot_ok, _snapshot
    try:
        _pin_main(_snapshot)
        _snapshot_ok = True
    except Exception:
        _snapshot_ok, _snapshot = False, {}


def _pin_main(snapshot):
    """One pass over the main module: the work a fork costs here, and none
    in the child (it inherits the snapshot)."""
    global _serial
    main = sys.modules.get("__main__")
    if main is None:
        return
    g = vars(main)
    if _fork_pass is not None:
        _serial = _fork_pass(g, _pins, _no_weakref, _Pin, _forget, _token, _serial,
                             _SMALL_TYPES, snapshot, _deaths[0])
        return
    snapshot.clear()
    pins = _pins
    for name, value in list(g.items()):
        t = type(value)
        if t in _SMALL_TYPES:
            if t not in (str, bytes) or len(value) <= 4096:
                snapshot[name] = value
            continue
        if _weakless(t) or id(value) in pins:
            continue
        try:
            pin = _Pin(value, _forget)
        except TypeError:
            _note_weakless(t)  # always sent by value
            continue
        _serial += 1
        pin.token, pin.serial, pin.ident = _token, _serial, id(value)
        pins[pin.ident] = pin


# Types whose objects refused a weak reference (an exception per object
# per fork cost 5 us a name: 0.3 s a fork for 50,000 of them): a C type
# itself, a class by its id, to a weak reference to it (kept, a class
# with __slots__ would never die).
_no_weakref = {}


def _weakless(t):
    if not t.__flags__ & _HEAPTYPE:
        return t in _no_weakref
    ref = _no_weakref.get(id(t))
    return ref is not None and ref() is t


def _note_weakless(t):
    if t.__flags__ & _HEAPTYPE:
        _no_weakref[id(t)] = weakref.ref(t)
    else:
        _no_weakref[t] = None


_HEAPTYPE = 1 << 9
_deaths = [0]  # how many pins have died in this process


def _forget(pin, pins=_pins, deaths=_deaths):
    """A pinned object died: its pin goes (one callback for every pin;
    what it needs are its defaults: at exit, module globals may be gone),
    and the next fork's pass reads every name again (its address may hold
    another object now)."""
    deaths[0] += 1
    if pins.get(pin.ident) is pin:
        del pins[pin.ident]


def _speedup(name):
    """_speedups.NAME, the loops here in C (30 ns a name where Python takes
    300), or None: not built, or a mutation planted (tests)."""
    from . import _mutation

    if _mutation.KEEP_C_OUT:
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return getattr(_speedups, name, None)


_fork_pass = _speedup("fork_pass")


def _after_fork_in_child():
    global _token, _inherited, _snapshot
    try:
        _token = os.urandom(8)
    except OSError:  # no entropy: a token no other process has all the same
        _token = ("%d.%d" % (os.getpid(), id(_pins))).encode() + _token
    # The parent's snapshot is this child's record; its own forks make a
    # new one (and its first pass reads every name).
    _inherited, _snapshot = _snapshot if _snapshot_ok else {}, {}


# What this process's main module bound to small immutable values when it
# was forked (strings and bytes up to 4 KiB; keeping one alive changes
# nothing a program can see), as the parent noted just before the fork
# (_snapshot, which the parent keeps up to date from fork to fork):
# nothing to do in the child, however many names.  Such a name
# bound to another object now was rebound by this process itself -- an
# initializer, a lazy ``global`` -- and a held definition reads it here,
# as python3 reads it, whatever the sender binds (checks_hold).
_inherited = {}
_snapshot, _snapshot_ok = {}, False


# Names cpmp wrote into a module for received functions that write module
# globals themselves, so they can be written again on a later send:
# {id(dict): set} (_receive._inject).
injected = {}


def inherited_binding(g, name, have):
    """Whether g, this process's main module dict, binds name to have as
    its parent did when this process was forked -- not rebound here since
    (an initializer, a lazy global): a small value the fork recorded, or
    an object a parent pinned.  Unknown (a list, say) counts as rebound."""
    if g is not getattr(sys.modules.get("__main__"), "__dict__", None):
        return False
    was = _inherited.get(name, _MISSING)
    if was is not _MISSING:
        return was is have
    pin = _pins.get(id(have))
    return pin is not None and pin.token != _token and pin() is have


def _rebound_here(g, name, have):
    """Whether this process bound name to have since it was forked."""
    if g is not getattr(sys.modules.get("__main__"), "__dict__", None) or not _inherited:
        return False
    if name in injected.get(id(g), ()):
        return False  # cpmp bound it there, for an earlier send
    was = _inherited.get(name, _MISSING)
    return was is not _MISSING and was is not have


def install():
    """Start pinning at forks (once per process; _patch calls it)."""
    if not getattr(install, "done", False):
        install.done = True
        before = _before_fork
        c_hook = _speedup("before_fork")
        if c_hook is not None and _fork_pass is not None:
            import functools

            before = functools.partial(c_hook, sys.modules[__name__])
        os.register_at_fork(before=before, after_in_child=_after_fork_in_child)


def pin_serial():
    """The serial of the last pin made: key_of(obj) is the same for a live
    obj while this is."""
    return _serial


def key_of(obj):
    """The key under which receivers forked from here hold obj, or None."""
    pin = _pins.get(id(obj))
    if pin is None or pin() is not obj:
        return None
    return pin.token, pin.serial, pin.ident


def resolve(key, default=None):
    """This process's copy of the object pinned under key, or default."""
    try:
        token, serial, ident = key
        pin = _pins.get(ident)
    except (TypeError, ValueError):  # not a key cpmp wrote
        return default
    if pin is None or pin.serial != serial or pin.token != token:
        return default
    value = pin()
    return default if value is None else value


# --- is the receiver's binding the sender's? -----------------------------------

# Values that are what they are equal to.
VALUE_TYPES = frozenset((int, float, complex, str, bytes, bool, type(None), type(Ellipsis),
                         type(NotImplemented), range))
_MISSING = object()
_SMALL_TYPES = frozenset(VALUE_TYPES)


def same_value(a, b):
    """Whether immutable a and b are interchangeable: same types, equal,
    and floats with the same sign and digits (0.0 == -0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is tuple or type(a) is frozenset:
        if len(a) != len(b):
            return False
        if type(a) is frozenset:
            return a == b and all(any(same_value(x, y) for y in b) for x in a)
        return all(same_value(x, y) for x, y in zip(a, b))
    if type(a) is float or type(a) is complex:
        return repr(a) == repr(b)
    return a == b


def checks_hold(g, checks):
    """Whether every main-module name a sender's definition reads is bound
    in g as in the sender (see _send._definition_checks): (name, "key",
    key) to the object held under key, (name, "value", v) to a value the
    same as v or one this process bound itself since its fork, (name,
    "bound", None) to anything."""
    for name, how, want in checks:
        have = g.get(name, _MISSING)
        if have is _MISSING:
            return False
        if how == _wire.KEY:
            if have is not resolve(want, _MISSING):
                return False
        elif how == _wire.VALUE and not same_value(have, want) and not _rebound_here(g, name, have):
            return False
    return True


def own_token():
    """This process's token: the first item of every key it pinned."""
    return _token


def is_live(live, name, value):
    """Whether module dict live binds name to value itself, or to an
    immutable value that cannot be told from it: reading it live is then
    reading the value sent (in a worker, see _receive._in_main_process)."""
    have = live.get(name, _MISSING)
    if have is value:
        return True
    return have is not _MISSING and type(have) in VALUE_TYPES and same_value(have, value)


def in_main_process():
    """Whether this process runs the main block (no multiprocessing parent):
    its main-block names change as that code runs, so a received function
    keeps the values it got for good (helper-23: lambdas a worker sent back
    read the parent's later rebinding).  A worker runs no main block: what
    changes its module's names is the program's own code there (a helper
    initialising a global), which a received function reads as its own
    module's where the module bound the value it got (helper-24)."""
    import multiprocessing.process as process

    return process.parent_process() is None


def shipped_names(shipped, live):
    """The shipped names a received function reads from its own namespace,
    not from live, its module's dict."""
    if in_main_process():
        return tuple(shipped)
    return tuple(n for n, v in shipped.items() if not is_live(live, n, v))
