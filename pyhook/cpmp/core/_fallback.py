"""The by-value copy that travels with every held reference (see _held):
pickled once, and sent again as the same bytes while the definition
provably pickles to them -- a main-block class's instances otherwise pay
for pickling the class by value at every send (300k instructions where
python3 takes 28k).

A function's fallback is reused while _resend's entry for it (which
checks its code, attributes, cells and every global it reads, by
identity) is the one it was made with.  A class's, while its snapshot is
the same, object for object: its metaclass, bases and every item of its
dict, each of them immutable, a C descriptor, a definition sent by
reference, or a function (bare, static, class method, property accessor)
whose _resend entry is unchanged; a dict or list item by its items; a main-module
base by its own snapshot.  Anything else -- a list attribute, an enum's
members, an ABC's registry -- makes the class's fallback be made afresh
at each send.  Large ones go through _stash.  (A class sent by value where
no receiver holds it is reduced afresh at each send: reusing its reduce
tuple saved less than checking its snapshot cost, 240k instructions a
send against 200k.)
"""

import struct
import sys
import types
import weakref
from types import FunctionType, ModuleType

from . import _cloud, _held, _mutation, _policy, _resend, _stash

_made = weakref.WeakKeyDictionary()  # definition -> [fingerprint, kept, checks]
# cpmp's pickler, sending the object it is given by value even where a
# receiver may hold it: _reduce sets it (it is built on _send, which calls
# this module).
dumps_by_value = None


def fallback(value, made=False):
    """value pickled by value with cpmp's pickler, or None if it cannot be
    (a lock inherited through fork): a receiver that does not hold it then
    gets a function that raises when called (see _receive).  made: what
    current(value) gave, if the caller just asked."""
    if _mutation.ACTIVE == "no-fallback":
        return None
    definition = type(value) is FunctionType or isinstance(value, type)
    if definition:
        if made is False:
            made = current(value)
        if made is not None:
            message = _stash.for_message(made[1])
            if message is not None:
                return message
    try:
        with _stash.inline():  # what it nests goes whole (_stash)
            blob = dumps_by_value(value)
    except Exception:
        return None
    if definition:
        snapshot = _snapshot(value)
        if snapshot is not None:
            kept = _stash.stash(blob)
            _made[value] = [_fingerprint(snapshot), kept, None]
            return _stash.for_message(kept) or blob
    return blob


def current(definition):
    """The record [fingerprint, kept, checks] made when definition was last
    pickled by value, while it provably still pickles to those bytes; else
    None.  checks: what _send last derived from the same objects (its
    checks and the pin serial they hold for), or None."""
    if _mutation.SLOW:
        return None
    made = _made.get(definition)
    if made is None:
        return None
    snapshot = _snapshot(definition)
    if snapshot is None or made[0][0] != tuple(map(id, snapshot)) \
            or None in map(_deref, made[0][1]):
        return None
    return made


def made(definition):
    """The record current() checks, unchecked (or None)."""
    return _made.get(definition)


def packed(ids):
    """A snapshot's ids as the pointers they are, packed: what
    _held_class.c compares with."""
    return struct.pack("%dP" % len(ids), *ids)


_deref = weakref.ref.__call__


def _fingerprint(snapshot):
    """(ids, weak, strong): the snapshot's objects as ids, kept as weak
    references where they take one, else strongly (numbers, strings, a
    list attribute).  While every weak one is alive, an equal tuple of ids
    is the same objects.  Nothing here holds the definition alive: a
    snapshot holds the class and its methods, and a record keyed by the
    class that held them strongly would keep it alive for good (a
    WeakKeyDictionary's value that refers to its key)."""
    weak, strong = [], []
    for item in snapshot:
        try:
            weak.append(weakref.ref(item))
        except TypeError:
            strong.append(item)
    return tuple(map(id, snapshot)), tuple(weak), tuple(strong)


def _snapshot(value):
    """A list of objects that are all the same ones (by identity) only while
    value's fallback is the same bytes, or None when there is none."""
    if not _resend.registry_empty():
        return None
    out = []
    if type(value) is FunctionType:
        reduce = _resend.lookup(value)
        return None if reduce is None else [reduce]
    try:
        return out if _class_items(value, out, set()) else None
    except RecursionError:  # a class attribute that holds itself
        return None


_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType,
                types.WrapperDescriptorType, types.MethodDescriptorType)


def _class_items(cls, out, seen):
    if id(cls) in seen:
        return True
    if seen and _by_reference(cls):  # (the first is sent by value: the caller asked)
        out.append(cls)
        return True
    seen.add(id(cls))
    # The name, qualified name and bases live in the type, not its dict.
    out.extend((cls, type(cls), cls.__bases__, cls.__name__, cls.__qualname__))
    for base in (type(cls),) + cls.__bases__:
        if not base.__flags__ & _HEAPTYPE and id(base) not in seen:
            out.append(base)  # a C type (type, object): what _by_reference says first
        elif not _class_items(base, out, seen):
            return False
    return _stable_items(tuple(vars(cls).items()), out)


_HEAPTYPE = 1 << 9


_VALUE_TYPES = _resend.VALUE_TYPES
_OPEN, _CLOSE = object(), object()  # bracket a dict's items: the list reads one way


def _stable_items(pairs, out):
    out.append(_OPEN)
    for key, item in pairs:
        t = type(item)
        if t in _VALUE_TYPES:  # (the commonest: what _stable says first)
            out.extend((key, item))
            continue
        if t is FunctionType:  # a method: what _stable says, without the call
            reduce = _function_item(item)
            if reduce is None:
                return False
            out.extend((key, item, reduce))
            continue
        if t in _DESCRIPTORS:
            # A C descriptor holds its class: kept, it would keep the class
            # alive (see _fingerprint).  Two with the same kind, class and
            # name pickle the same (_reduce_getset, cloudpickle).
            out.extend((key, t, item.__objclass__, item.__name__))
            continue
        out.extend((key, item))
        if not _stable(item, out):
            return False
    out.append(_CLOSE)
    return True


def _stable(item, out):
    t = type(item)
    if _resend.immutable(item) or t in _DESCRIPTORS:
        return True
    if t is types.BuiltinFunctionType:  # len, or a method of a mutable table
        return item.__self__ is None or _stable(item.__self__, out)
    if t is staticmethod or t is classmethod:
        item = item.__func__
        out.append(item)
        t = type(item)
    if t is property:
        out.extend((item.fget, item.fset, item.fdel))
        return all(f is None or _stable(f, out) for f in (item.fget, item.fset, item.fdel))
    if t is FunctionType:
        reduce = _function_item(item)
        out.append(reduce)
        return reduce is not None
    if t is dict or t is list:
        if len(out) > 10000:
            return False  # a table: made afresh at each send
        if t is dict:
            return _stable_items(tuple(item.items()), out)
        return _stable_items(tuple((None, v) for v in item), out)  # __slotnames__, say
    if t is ModuleType:
        return sys.modules.get(item.__name__) is item
    if isinstance(item, type) and _by_reference(item):
        out.append(_BY_REFERENCE)
        return True
    return False


_BY_REFERENCE = object()
# What _held_class.c, the C twin of the walk above, is given to compare with.
MARKS = (_OPEN, _CLOSE, _BY_REFERENCE)
DESCRIPTORS = _DESCRIPTORS
KINDS = (staticmethod, classmethod, property, types.BuiltinFunctionType, FunctionType)


def _function_item(func):
    """What stands for a function in a snapshot: its cached reduce tuple
    (sent by value, unchanged since), _BY_REFERENCE, or None: neither."""
    reduce = _resend.lookup(func)
    if reduce is None and _by_reference(func):
        reduce = _BY_REFERENCE
    return reduce


def _by_reference(definition):
    """Whether the pickler sends definition by reference (registry_empty()
    holds: see _snapshot): a C type always, else as the policy says, which
    a record in _resend answers cheaply once it has."""
    if definition in _cloud.OWN or (isinstance(definition, type)
                                   and not definition.__flags__ & _HEAPTYPE):
        return True
    if _resend.goes_by_reference(definition):
        return True
    if _policy.by_value_reason(definition, type(definition) is FunctionType) is None:
        _resend.remember_by_reference(definition)
        return True
    return False


# id(class) -> (weak reference to it, qualified name, module name, weak
# reference to the module, pin serial, fingerprint, reduce): the reference
# to a main-module class a forked receiver holds, sent again by the C fast
# path (_held_class.c) while all of it and the class's snapshot (_fallback)
# are the same.  A dict when that path is in (_reduce sets it; _send fills
# it).
held_classes = None


def remember_held_class(cls, entry, reduce):
    """Record reduce for cls where the C fast path can prove it still right:
    the fallback it carries is the bytes _fallback keeps (not a stash's
    name), made from the snapshot its record holds, and its checks are
    the ones that record says hold for this pin serial.  The record keeps
    what the fingerprint holds strongly: an id compared is never one of a
    dead object's that a new one took over."""
    held_classes.pop(id(cls), None)  # whatever is recorded is older
    record = made(cls)
    if record is None or record[2] is None or record[2][0] != _held.pin_serial() \
            or type(entry[2]) is not bytes or entry[2] is not record[1] or entry[1] is not record[2][2]:
        return
    module = sys.modules.get(cls.__module__)
    qualname = cls.__qualname__
    if module is None or type(qualname) is not str or "." in qualname \
            or getattr(module, qualname, None) is not cls:
        return
    import functools

    forget = functools.partial(held_classes.pop, id(cls), None)
    held_classes[id(cls)] = (weakref.ref(cls, lambda ref: forget()), qualname, cls.__module__,
                             weakref.ref(module), _held.pin_serial(),
                             (packed(record[0][0]),) + record[0][1:], reduce)
