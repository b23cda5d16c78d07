"""typing.TypeVar's reducer (_reduce.REDUCERS has it once typing is
loaded)."""

import sys

from . import _cloud, _policy, _receive, _send


def reduce_typevar(tv):
    """A TypeVar goes by name where the standard pickler finds it (the same
    bytes) and every receiver does; one bound by a -c program or a main
    block, which a spawned child's main module does not bind, as a
    reference to what a forked receiver holds (as a definition goes, so
    that a worker sending it back gives the sender its own), else as
    cloudpickle sends it (so does a TypeVar local to a function)."""
    module = sys.modules.get(tv.__module__)
    if module is not None and getattr(module, tv.__name__, None) is tv:
        names = _policy.main_names(module) if tv.__module__ in _policy.MAIN_NAMES else None
        if not _policy.by_value_module(tv.__module__) and (
                names is None or (names is not False and tv.__name__ in names)):
            return tv.__name__
        entry = _send.held_entry(tv)
        if entry is not None:
            return _send.held_reduce(tv, entry)
    return by_value(tv)


def by_value(tv):
    return _receive.cloudpickle_call, ("_make_typevar", _cloud.attr("_decompose_typevar")(tv))
