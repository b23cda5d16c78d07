"""cloudpickle's reduce of a class sent by value, corrected where its
versions differ or lose something (cpmp takes its class reducers, never its
pickler).  Nothing here names a loader of its own: what it writes loads
through _receive as before."""

from . import _receive, _wire


def corrected(cls, reduce):
    """reduce, cloudpickle's _dynamic_class_reduce(cls), corrected in place."""
    make, args, state = reduce[:3]
    clsdict = state[0] if isinstance(state, tuple) else state
    if make.__name__ == "_make_skeleton_class" and "__module__" in vars(cls):
        # The skeleton is made in its module, as cloudpickle 2.2.1 makes it:
        # 2.2.0 made it in the caller's (an ABC's came back in module abc),
        # and a NamedTuple's cannot be made at all without (KeyError, and a
        # pool's workers replaced forever).
        args[3].setdefault("__module__", cls.__module__)
        if "__orig_bases__" in vars(cls) and _is_named_tuple(cls):
            args[3].pop("__slots__", None)  # typing refuses it (2.2.1 stopped giving it)
    if "__dataclass_fields__" in vars(cls):
        _dataclass_fields_by_reference(clsdict)
    _own_annotations(cls, clsdict)
    return reduce


def _is_named_tuple(cls):
    """Whether cls is a class statement's typing.NamedTuple (its skeleton
    is made through typing's NamedTupleMeta)."""
    import sys

    typing = sys.modules.get("typing")
    return typing is not None and typing.NamedTuple in vars(cls).get("__orig_bases__", ())


class _FieldType:
    """Pickles as dataclasses' own field-kind marker, which dataclasses
    compares by identity (cloudpickle 2.2 would send a copy, and fields()
    of the received class would then be empty)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return _receive.dataclass_field_type, (self.name,)


def _dataclass_fields_by_reference(clsdict):
    import copy

    fields = {}
    for name, field in clsdict["__dataclass_fields__"].items():
        field = copy.copy(field)
        field._field_type = _FieldType(field._field_type.name)
        fields[name] = field
    clsdict["__dataclass_fields__"] = fields


# Where 3.14 keeps a class's own annotations (PEP 649): a function reading
# the class body's namespace through a cell, and the dict it made.
_CLASS_ANNOTATIONS = ("__annotate_func__", "__annotate__", "__annotations_cache__")


def _own_annotations(cls, clsdict):
    """Put cls's own annotations into clsdict, the state cloudpickle made of
    it, as a plain ``__annotations__`` (_wire.annotations), in place of
    3.14's function and cache: that function's cell holds the class body's
    namespace, which cloudpickle < 3.1.2 cannot pickle for an ABC
    (``_abc_impl``), and which 3.1.2 drops, and the annotations with it."""
    if not vars(cls).keys().isdisjoint(_CLASS_ANNOTATIONS):  # (no generator: each send)
        for key in _CLASS_ANNOTATIONS:
            clsdict.pop(key, None)
        clsdict["__annotations__"] = dict(_wire.annotations(cls))
