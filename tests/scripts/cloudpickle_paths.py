"""What cpmp takes from cloudpickle never reaches cloudpickle's own
by-reference check, which calls pickle._getattribute: 3.14 changed that
function (a list of names, not a dotted string), and cloudpickle < 3.1.1
then finds no function importable and pickles its own helpers by value
without end -- a C stack overflow.  Each object below goes through
cpmp.dumps and is loaded by a fresh interpreter; the check is spied on.

    cloudpickle_paths.py            cpmp's sends: 0 checks
    cloudpickle_paths.py control    cloudpickle.dumps of a def as well, which the spy sees
"""

import abc
import dataclasses
import enum
import subprocess
import sys
import typing
import weakref

import cloudpickle.cloudpickle as cloudpickle_module

calls = []
_original = cloudpickle_module._getattribute


def _spy(obj, name):
    calls.append(name)
    return _original(obj, name)


cloudpickle_module._getattribute = _spy

import cpmp  # noqa: E402  (after the spy, so that nothing is looked up before it)


def objects():
    class Local:
        x: int = 1

        def f(self):
            return self.x + 1

    class Base(abc.ABC):
        @abc.abstractmethod
        def g(self):
            ...

    class Impl(Base):
        def g(self):
            return 5

    class Color(enum.Enum):
        RED = 1

    @dataclasses.dataclass
    class Item:
        a: int
        b: str = "s"

    T = typing.TypeVar("T")

    class Box(typing.Generic[T]):
        pass

    k = 3
    return [("local class instance", Local()), ("ABC subclass instance", Impl()),
            ("local enum member", Color.RED), ("local dataclass instance", Item(1)),
            ("TypeVar", T), ("generic local class instance", Box()),
            ("WeakSet", weakref.WeakSet()), ("closure", lambda x: x + k), ("local class", Impl)]


LOAD = "import pickle, sys; o = pickle.loads(sys.stdin.buffer.read()); print(type(o).__name__)"

for name, obj in objects():
    loaded = subprocess.run([sys.executable, "-c", LOAD], input=cpmp.dumps(obj),
                            capture_output=True, check=True).stdout.decode().strip()
    print("%s: %s" % (name, loaded))
if sys.argv[1:] == ["control"]:
    import cloudpickle

    cloudpickle.dumps(objects)
print("by-reference checks of cloudpickle's:", len(calls))
