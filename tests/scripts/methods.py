"""Bound methods, sent by multiprocessing (see oracle.bats).

methods.py bytes: a digest of what ForkingPickler.dumps makes of each
method the standard pickler sends right (to compare python3 and cpmp).
methods.py START_METHOD [POOL]: what a Pool and a ProcessPoolExecutor
worker return when each case's method is the task, one line per pool (only
POOL, Pool or Executor, if given: a stock Pool hangs when its worker
cannot load a task).
"""
import fractions
import hashlib
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.reduction import ForkingPickler


class Point:
    def __init__(self, x):
        self.x = x

    def norm(self):
        return abs(self.x)

    @classmethod
    def origin(cls):
        return cls(0)

    @staticmethod
    def unit():
        return 1


class Base:
    def who(self):
        return "base"


class Derived(Base):
    def who(self):
        return "derived"


Point.echo = lambda self, y: (self.x, y)       # named "<lambda>"
Point.make = classmethod(lambda cls, x: cls(x).x)


def shadowed():
    """A method its instance shadows with another attribute of its name."""
    p = Point(7)
    method = p.norm
    p.norm = Point(-1).norm
    return method


def cases():
    """name -> (method, its arguments)."""
    return {
        "lambda": (Point(2).echo, (5,)),
        "classmethod lambda": (Point.make, (4,)),
        "overridden in a subclass": (Base.who.__get__(Derived()), ()),
        "shadowed by an instance attribute": (shadowed(), ()),
        "plain": (Point(-3).norm, ()),
    }


def call(method, args):
    return method(*args)


def outcome(name, submit, method, args):
    try:
        return "%s %r" % (name, submit(method, args))
    except Exception as exc:
        return "%s fails: %s" % (name, type(exc).__name__)


def executor(ctx, name, method, args):
    # One executor a case: a worker that cannot load its task breaks the
    # executor it belongs to.
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        return outcome(name, lambda m, a: ex.submit(call, m, a).result(), method, args)


def digests():
    """The methods the standard pickler sends by name, correctly."""
    p = Point(3)
    samples = [p.norm, [p.norm, p], Point.origin, Derived().who, Base().who,
               fractions.Fraction(1, 3).limit_denominator]
    return " ".join(hashlib.sha1(ForkingPickler.dumps(s)).hexdigest()[:10] for s in samples)


def main(how, only=None):
    if how == "bytes":
        print(digests())
        return
    ctx = multiprocessing.get_context(how)
    if only in (None, "Pool"):
        with ctx.Pool(1) as pool:
            print("Pool:", "; ".join(outcome(name, lambda m, a: pool.apply(call, (m, a)), *case)
                                     for name, case in cases().items()))
    if only in (None, "Executor"):
        print("Executor:", "; ".join(executor(ctx, name, *case) for name, case in cases().items()))


if __name__ == "__main__":
    main(*sys.argv[1:])
