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
# Classes first sent by value from this lineage, to the token of the
# process that sent them: its own (defined there, or reached there first).
# A copy a forked child inherited keeps its parent's token (see make_class).
sent_classes = weakref.WeakKeyDictionary()


def note_sent(cls):
    """cls, not received here, goes by value from this process (_send)."""
    if cls not in _received_classes and cls not in sent_classes:
        sent_classes[cls] = _held.own_token()


def make_class(make, args):
    """A class sent by value, through cloudpickle's skeleton maker (make:
    its name; cpmp 0.1 sent the function itself): the same class object for
    the same class sent again (cloudpickle tracks it by an id the sender
    gave it), with the state it comes with -- but this process's own class,
    when it sent it and gets it back, unchanged.

    A copy this process inherited through fork of a class an ancestor sent
    is not its own: it gets the state, as cloudpickle gives it (helper-33:
    the worker's copy, left as it was, read the old names and attributes
    after the sender changed them), and stays the one class a round trip
    through this process's own children gives back (helper-37)."""
    if type(make) is str:
        make = _cloud.attr(make)
    tracker, key = _tracked_before(make, args)
    before = None if key is None else tracker.get(key)
    cls = make(*args)
    if before is None or sent_classes.get(before) != _held.own_token():
        _received_classes.add(cls)
    return cls


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
