"""cloudpickle as the second oracle: for each object, what
cpmp.loads(cpmp.dumps(x)) does in a spawned child is what
cloudpickle.loads(cloudpickle.dumps(x)) does there (vs_cloudpickle.py,
under cpmp run; see differential.bats).

Prints one line per object that behaves differently, then a summary.  The
only differences allowed are the model's deliberate ones, listed in
ALLOWED: a function sent by value reads and writes its module's live
globals, and uses an object its process already holds.
"""
import abc
import dataclasses
import enum
import functools
import multiprocessing
import sys
import types
import typing
from collections import OrderedDict, namedtuple

import cloudpickle

import cpmp

COUNTER = {"n": 0}


def reducer_objects():
    """Objects of the types cpmp's and cloudpickle's reducers handle."""
    @dataclasses.dataclass
    class Item:
        name: str
        qty: int = 1

    class Base(abc.ABC):
        @abc.abstractmethod
        def f(self):
            pass

        @property
        def p(self):
            return "p"

        @classmethod
        def c(cls):
            return cls.__name__

        @staticmethod
        def s():
            return "s"

    class Impl(Base):
        __slots__ = ("x",)

        def f(self):
            return "f"

    def fact(n):
        return 1 if n < 2 else n * fact(n - 1)

    def gen(n):
        yield from range(n)

    async def coro():
        return 7

    def counter():
        COUNTER["n"] += 1
        return COUNTER["n"], sys.modules["__mp_main__"].COUNTER["n"]

    k = 5
    Pair = namedtuple("Pair", "a b")
    Color = enum.Enum("Color", "RED GREEN")
    dyn = types.ModuleType("dynmod")
    exec("X = 3\ndef g():\n    return X\n", dyn.__dict__)
    T = typing.TypeVar("T")
    return {
        "mappingproxy": types.MappingProxyType({"a": 1}),
        "dict_keys": {"a": 1, "b": 2}.keys(),
        "dict_values": {"a": 1}.values(),
        "dict_items": {"a": 1}.items(),
        "odict_keys": OrderedDict(a=1, b=2).keys(),
        "odict_items": OrderedDict(a=1).items(),
        "memoryview": memoryview(b"abc"),
        "dataclass": Item("x", 2),
        "namedtuple": Pair(1, 2),
        "enum": Color.GREEN,
        "abc-slots-property": Impl(),
        "code": fact.__code__,
        "cell": (lambda: k).__closure__[0],
        "module": dyn,
        "module-function": dyn.g,
        "getset": types.FunctionType.__code__,
        "generic": list[int],
        "typevar-generic": typing.List[T],
        "partial": functools.partial(lambda a, b: a - b, 10),
        "recursive": fact,
        "generator": gen,
        "coroutine": coro,
        "defaults": lambda a, b=2, *, c=3: (a, b, c),
        "counter": counter,
    }


def behave(obj):
    """A comparable description of what obj does."""
    if isinstance(obj, types.FunctionType):
        if obj.__code__.co_flags & 0x20:  # generator
            return ("generator", list(obj(3)))
        if obj.__code__.co_flags & 0x80:  # coroutine
            try:
                obj().send(None)
            except StopIteration as stop:
                return ("coroutine", stop.value)
        try:
            return ("function", obj.__name__, obj(4))
        except TypeError:
            return ("function", obj.__name__, obj())
    if isinstance(obj, functools.partial):
        return ("partial", obj(3))
    if isinstance(obj, types.CodeType):
        return ("code", obj.co_name, obj.co_argcount)
    if type(obj).__name__ == "cell":
        return ("cell", obj.cell_contents)
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__, obj.g())
    if dataclasses.is_dataclass(obj):
        return ("dataclass", [f.name for f in dataclasses.fields(obj)], dataclasses.asdict(obj))
    if isinstance(obj, enum.Enum):
        return ("enum", obj.name, obj.value, [m.name for m in type(obj)])
    if type(obj).__name__ == "Impl":
        return ("class", obj.f(), obj.p, obj.c(), obj.s(), type(obj).__slots__,
                [c.__name__ for c in type(obj).__mro__])
    if isinstance(obj, memoryview):
        return ("memoryview", bytes(obj))
    return (type(obj).__name__, repr(obj))


def _load_and_behave(blob, loads):
    try:
        return behave(__import__(loads).loads(blob))
    except Exception as exc:
        return "fails: %s: %s" % (type(exc).__name__, exc)


def compare(pool, name, obj, allowed):
    """None when obj behaves the same, "allowed", or what differs."""
    both = []
    for module in (cloudpickle, cpmp):
        try:
            blob = module.dumps(obj)
        except Exception as exc:
            both.append("cannot pickle: %s: %s" % (type(exc).__name__, exc))
            continue
        both.append(pool.apply(_load_and_behave, (blob, module.__name__)))
    theirs, ours = both
    if ours == theirs:
        return None
    if name in allowed:
        return "allowed"
    return "%s: cpmp %r, cloudpickle %r" % (name, ours, theirs)


# The differences allowed, by name: the model's (cloudpickle gives a
# function its own copy of its globals, cpmp the module's live namespace),
# and cloudpickle 2.2's own bug (it copies dataclasses' field markers, and
# fields() of the class it rebuilds is empty).
ALLOWED = {"counter": "live globals: the module's own COUNTER counts on",
           "dataclass": "cloudpickle 2.2 loses a dataclass's fields, cpmp keeps them"}


def main():
    objects = reducer_objects()
    # A fresh child for each load: cloudpickle tracks classes by an id.
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        lines = [compare(pool, name, obj, ALLOWED) for name, obj in objects.items()]
    differ = [line for line in lines if line and line != "allowed"]
    for line in differ:
        print(line)
    allowed = [ALLOWED[name] for name, line in zip(objects, lines) if line == "allowed"]
    print("%d objects: %d behave as with cloudpickle, %d differ as listed (%s), %d otherwise"
          % (len(lines), lines.count(None), len(allowed), "; ".join(allowed), len(differ)))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
