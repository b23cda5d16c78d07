"""The reducers of typing.TypeVar, ParamSpec, TypeVarTuple and NewType
(_reduce.REDUCERS has them once typing is loaded)."""

import sys

from . import _cloud, _policy, _receive, _send


def reduce_typevar(tv):
    """A TypeVar goes by name where the standard pickler finds it (the same
    bytes) and every receiver does; one bound by a -c program or a main
    block, which a spawned child's main module does not bind, as a
    reference to what a forked receiver holds (as a definition goes, so
    that a worker sending it back gives the sender its own), else as
    cloudpickle sends it (so does a TypeVar local to a function)."""
    found = _by_reference(tv)
    return by_value(tv) if found is None else found


def _by_reference(obj):
    """obj's name, or a held reference, as reduce_typevar says; else None."""
    module = sys.modules.get(obj.__module__)
    if module is not None and getattr(module, obj.__name__, None) is obj:
        names = _policy.main_names(module) if obj.__module__ in _policy.MAIN_NAMES else None
        if not _policy.by_value_module(obj.__module__) and (
                names is None or (names is not False and obj.__name__ in names)):
            return obj.__name__
        entry = _send.held_entry(obj)
        if entry is not None:
            return _send.held_reduce(obj, entry)
    return None


def reduce_typing(obj):
    """A ParamSpec, TypeVarTuple or NewType as reduce_typevar sends a
    TypeVar; by value (cloudpickle has no form for them) made anew by the
    receiver, a new object at each send."""
    found = _by_reference(obj)
    if found is not None:
        return found
    kind, args, kwargs = type(obj).__name__, (), {}
    if kind == "ParamSpec":
        kwargs = {"bound": obj.__bound__, "covariant": obj.__covariant__,
                  "contravariant": obj.__contravariant__}
    elif kind == "NewType":
        args = (obj.__supertype__,)
    return _receive.make_typing, (kind, obj.__name__, args, kwargs, obj.__module__,
                                  _tracker(obj))


def _tracker(obj):
    tracker = _receive.typing_trackers.get(obj)
    if tracker is None:
        import uuid

        tracker = uuid.uuid4().hex
        _receive.typing_trackers[obj] = tracker
        _receive.typing_objects[tracker] = obj
    return tracker


TYPING_KINDS = ("ParamSpec", "TypeVarTuple", "NewType")


def by_value(tv):
    return _receive.cloudpickle_call, ("_make_typevar", _cloud.attr("_decompose_typevar")(tv))
