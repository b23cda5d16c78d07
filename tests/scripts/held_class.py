"""A main-block class sent again by the C fast path (_held_class.c).

After a fork (so that a forked receiver would hold the class), each step
changes the class, or something its bytes are made from, then sends an
instance to a spawned worker, which holds nothing and so rebuilds the class
from the fallback the message carries (a fresh worker at each step).  The worker's description of what
it got must be the sender's description of its class at that send: a
fallback reused stale by the fast path shows as a difference.  Each step
sends it twice, the second time unchanged (a hit of the fast path).
Prints one line per step that differs, then a summary; with "walk", also
whether the C walk agrees with _fallback's snapshot after each change.
"""
import multiprocessing
import os
import struct
import sys


def describe(obj):
    """What obj's class is and does, as the receiver sees it."""
    cls = type(obj)
    # (Not its __qualname__: cloudpickle 2.2 sends none, the received class
    # has its __name__ there, by the fast path or not.)
    out = [cls.__name__, [b.__name__ for b in cls.__mro__]]
    for name in ("scale", "tags", "table", "unit", "meta_tag"):
        out.append(repr(getattr(cls, name, "-")))
    for call in (lambda: obj.method(), lambda: obj.area, lambda: cls.helper(),
                 lambda: cls.klass(), lambda: obj.x):
        try:
            out.append(repr(call()))
        except Exception as exc:
            out.append(type(exc).__name__)
    return out


def walk_agrees(cls, old):
    """Whether the C walk says cls is unchanged exactly where the Python
    snapshot does: (Python same?, C same?) for the ids old."""
    from cpmp.core import _fallback, _speedups

    snap = _fallback._snapshot(cls)
    py_same = snap is not None and tuple(map(id, snap)) == old
    c_same = _speedups.snapshot_is(cls, struct.pack("%dP" % len(old), *old))
    return py_same, c_same


if __name__ == "__main__":
    SCALE = 10

    class Meta(type):
        meta_tag = "m1"

    class Base(metaclass=Meta):
        unit = "cm"

    class Base2(metaclass=Meta):
        unit = "in"

    def cell_factory(k):
        def method(self):
            return (k, SCALE, self.x)
        return method

    class Point(Base):
        tags = ["a"]
        table = {"k": 1}

        def __init__(self, x):
            self.x = x

        method = cell_factory(1)

        @property
        def area(self):
            return self.x * 2

        @staticmethod
        def helper():
            return "h1"

        @classmethod
        def klass(cls):
            return cls.__name__

    def other_init(self, x):
        self.x = x + 100

    def helper2():
        return "h2"

    def set_cell(value):
        Point.method.__closure__[0].cell_contents = value

    def rebind_scale(value):
        global SCALE
        SCALE = value

    steps = [
        ("unchanged", lambda: None),
        ("new attribute", lambda: setattr(Point, "scale", 2)),
        ("attribute rebound", lambda: setattr(Point, "scale", 3)),
        ("list attribute changed in place", lambda: Point.tags.append("b")),
        ("dict attribute changed in place", lambda: Point.table.update(k=2)),
        ("__init__ replaced", lambda: setattr(Point, "__init__", other_init)),
        ("method's cell changed", lambda: set_cell(2)),
        ("global a method reads rebound", lambda: rebind_scale(11)),
        ("method's code replaced", lambda: setattr(Point.method, "__code__",
                                                   cell_factory(5).__code__)),
        ("property replaced", lambda: setattr(Point, "area", property(lambda s: -1))),
        ("staticmethod replaced", lambda: setattr(Point, "helper", staticmethod(helper2))),
        ("base's attribute rebound", lambda: setattr(Base, "unit", "mm")),
        ("metaclass attribute rebound", lambda: setattr(Meta, "meta_tag", "m2")),
        ("__bases__ replaced", lambda: setattr(Point, "__bases__", (Base2,))),
        ("__name__ changed", lambda: setattr(Point, "__name__", "Pt")),
        ("attribute deleted", lambda: delattr(Point, "scale")),
        ("unchanged again", lambda: None),
    ]
    walk = sys.argv[1:] == ["walk"]
    pid = os.fork()  # a forked receiver holds Point from here on
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    bad = 0
    ctx = multiprocessing.get_context("spawn")
    # A worker per task: one that rebuilt the class keeps it, as
    # cloudpickle's class tracker does, and takes only its attributes anew.
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for name, change in steps:
            if walk:
                from cpmp.core import _fallback

                snap = _fallback._snapshot(Point)
                old = None if snap is None else tuple(map(id, snap))
            change()
            if walk and old is not None:
                py_same, c_same = walk_agrees(Point, old)
                if py_same != c_same:
                    bad += 1
                    print("%s: the Python snapshot says %s, the C walk %s"
                          % (name, "same" if py_same else "changed",
                             "same" if c_same else "changed"))
            want = describe(Point(1))
            for _ in range(2):
                got = pool.apply(describe, (Point(1),))
                if got != want:
                    bad += 1
                    print("%s: the worker got %s, the sender has %s" % (name, got, want))
                    break
    try:
        from cpmp.core import _speedups
        hits = "hits" if _speedups.hits() > 0 else "no hits"
    except ImportError:
        hits = "no C"
    print("%d steps, %d differ (%s)" % (len(steps), bad, hits))
