"""How the receiver rebuilds a class sent by value (_send.reduce_class_by_value):
through cloudpickle's skeleton maker and class state, with cloudpickle's
class tracker, which keeps a class sent again the same class object.

These names are written into pickles, as _receive's are (see there and
_wire); _receive keeps aliases for those that payloads named there.
"""

import sys
import weakref

from . import _cloud, _held

_received_classes = weakref.WeakSet()
# Classes this process sent by value, to the token it had then: a class
# the tracker holds that this process neither received nor sent since its
# fork is its copy of an ancestor's class (see make_class).
sent_classes = weakref.WeakKeyDictionary()


def note_sent(cls):
    """cls, not received here, goes by value from this process (_send)."""
    if cls not in _received_classes:
        sent_classes[cls] = _held.own_token()


def make_class(make, args):
    """A class sent by value, through cloudpickle's skeleton maker (make:
    its name; cpmp 0.1 sent the function itself): the same class object for
    the same class sent again (cloudpickle tracks it by an id the sender
    gave it), and this process's own class when it sent it and gets it back.

    Never this process's copy, inherited through fork, of a class an
    ancestor sent before the fork: whether that copy is still the sender's
    class is the held reference's question (_send), answered no when the
    value comes (a method reads a name rebound since, an attribute was set
    since: helper-33, the worker's copy read the old ones)."""
    if type(make) is str:
        make = _cloud.attr(make)
    tracker, key = _tracked_before(make, args)
    before = None if key is None else tracker.get(key)
    if before is not None and before not in _received_classes \
            and sent_classes.get(before) != _held.own_token():
        _untrack(sys.modules[make.__module__], tracker, key, before)
        before = None
    cls = make(*args)
    if before is None:
        _received_classes.add(cls)
    return cls


def _untrack(module, tracker, key, cls):
    lock = getattr(module, "_DYNAMIC_CLASS_TRACKER_LOCK", None)
    if lock is not None:
        with lock:
            if tracker.get(key) is cls:
                del tracker[key]
    elif tracker.get(key) is cls:
        del tracker[key]


def _tracked_before(make, args):
    """(cloudpickle's tracker by id, this payload's id in it or None)."""
    module = sys.modules[make.__module__]
    tracker = getattr(module, "_DYNAMIC_CLASS_TRACKER_BY_ID", None)
    if tracker is None:
        tracker = getattr(sys.modules.get("cloudpickle.cloudpickle"), "_DYNAMIC_CLASS_TRACKER_BY_ID", {})
    for arg in args:
        if isinstance(arg, str) and arg in tracker:
            return tracker, arg
    return tracker, None


def set_class_state(cls, state):
    """cloudpickle's class state, set on a class this process received --
    never on one it defined itself (cloudpickle would replace the methods
    of a program's own class with the copies a worker sent back)."""
    if cls in _received_classes:
        _cloud.attr("_class_setstate")(cls, state)
    return cls
