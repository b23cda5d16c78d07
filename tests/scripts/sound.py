"""Programs that broke the last design (issue "Sound by construction"),
each printing what python3 with top-level defs, or cloudpickle, gives.

    sound.py CASE METHOD
"""

import functools
import multiprocessing as mp
import sys
from collections import OrderedDict, namedtuple


def noop():
    pass


def ident(x):
    return x


def main_f():
    import __main__

    return __main__.f


def is_main_f(fn):
    import __main__

    return fn is __main__.f


def use(obj):
    return obj.get()


def top(x):
    return "top %d" % x


def call(fn, x):
    return fn(x)


def deco(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


if __name__ == "__main__":
    case, method = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)

    if case == "nested":
        # Names shipped with a lambda, read by code nested in it.
        dir, type = "/data", "train"
        k = 5
        with ctx.Pool(1) as p:
            print(p.apply(lambda ns: [f"{dir}/{type}/{n}" for n in ns], (["a"],)),
                  p.apply(lambda: list(x + k for x in range(2))),
                  p.apply(lambda: (lambda y: y + k)(1)),
                  p.apply(lambda: sorted({x: k for x in "ab"}.items())))

    elif case == "decorated":
        # A functools.wraps def and a method of a main-block class read k.
        k = 100

        @deco
        def work(x):
            return x + k

        class C:
            def m(self, x):
                return x + k

        with ctx.Pool(1) as p:
            out = []
            for k in range(3):
                out.append((p.apply(work, (0,)), p.apply(C().m, (0,))))
            print(out)

    elif case == "unbound-then-bound":
        with ctx.Pool(1) as p:
            f = lambda x: x + late  # noqa: E731, F821
            try:
                p.apply(f, (1,))
            except NameError as exc:
                print("NameError:", exc)
            late = 10
            print(p.apply(f, (1,)))
            late = 20
            print(p.apply(f, (1,)))

    elif case == "file-in-dict":
        # Nothing sent by value: the dict dies at del, its file is flushed.
        path = sys.argv[3]
        log = {"out": open(path, "w")}
        log["out"].write("hello\n")
        proc = ctx.Process(target=noop)
        proc.start()
        proc.join()
        del log
        with open(path) as f:
            print(repr(f.read()))

    elif case == "wrappers":
        # A main-block lru_cache'd def sent itself (python3 finds a
        # top-level one by name: under spawn cpmp sends it by value), and a
        # partial of a def reading a name rebound after the fork, read by a
        # lambda: the partial is the worker's own only where the def is
        # (helper-28: (4, 4, 1003), the worker's copy read the old Z).
        @functools.lru_cache(maxsize=None)
        def sq(x):
            return x * x

        Z = 3

        def fn(k):
            return Z + k

        pf = functools.partial(fn, 1000)
        sq(5)
        with ctx.Pool(1) as p:
            Z = 4
            print(p.map(sq, [1, 2, 3]), p.apply(lambda: (Z, fn(0), pf())))
            # Under fork the worker's own, with the parent's sq(5); else a
            # new cache in each message.
            print(p.apply(lambda: sq.cache_info().currsize) == (4 if method == "fork" else 0))

    elif case == "lru-named":
        # An lru_cache wrapper's __wrapped__ set to another function, and
        # functools.wraps over a wrapper: the worker calls the cached
        # function, as python3's worker does (helper-33: it called the one
        # __wrapped__ names), and __wrapped__ names what it did.
        @functools.lru_cache(maxsize=None)
        def lf(x):
            return "real", x

        lf.__wrapped__ = lambda x: ("decoy", x)
        lf2 = functools.wraps(top)(functools.lru_cache(maxsize=None)(lambda x: ("real2", x)))

        @functools.lru_cache(maxsize=None)
        def lf3(x):
            return "self", x

        lf3.__wrapped__ = lf3  # (helper-37: RecursionError under spawn)
        with ctx.Pool(1) as p:
            print(p.apply(call, (lf, 1)), p.apply(call, (lambda _: (lf(2), lf.__wrapped__(2)), None)),
                  p.apply(call, (lf2, 1)), p.apply(call, (lambda _: (lf2(2), lf2.__wrapped__(2)), None)),
                  p.map(lf3, [1]))

    elif case == "lifetimes":
        # Sent again and again, then dropped: each dies at del, as under
        # python3 (a held class's record of its methods had kept it alive
        # for good under fork, and a fork the class of an instance that
        # takes no weak reference).
        import gc
        import weakref

        class Point:
            def __init__(self, x):
                self.x = x

            def get(self):
                return self.x

        class Sup(Point):
            def get(self):
                return super().get() + 1

        def make_rec():
            def rec(n):
                return 0 if n == 0 else rec(n - 1) + 1
            return rec

        class Slotted:  # takes no weak reference: noted at the fork, by type
            __slots__ = ("x",)

        lam, rec, slotted = (lambda v: v + 1), make_rec(), Slotted()  # noqa: E731
        with ctx.Pool(1) as p:
            for _ in range(3):
                out = [p.apply(ident, (Point(1),)).get(), p.apply(ident, (Sup(1),)).get(),
                       p.apply(lam, (1,)), p.apply(rec, (3,))]
        refs = [weakref.ref(o) for o in (Point, Sup, lam, rec, Slotted)]
        del Point, Sup, lam, rec, Slotted, slotted
        gc.collect()
        print(out, [r() is None for r in refs])

    elif case == "fallbacks":
        # Objects with a weak reference, held by no spawned worker.
        import numpy

        class Inst:
            def __init__(self):
                self.v = 7
        Point = namedtuple("Point", "x y")
        inst, arr, pt, od = Inst(), numpy.arange(3), Point(1, 2), OrderedDict(a=1)
        fork = mp.get_context("fork").Process(target=noop)
        fork.start()
        fork.join()
        with ctx.Pool(1) as p:
            print(p.apply(lambda: (inst.v, int(arr.sum()), pt.y, od["a"])))

    elif case == "flags":
        flag, none, small, word = True, 1, 7, "on"

        def f(x):
            return (x, flag, none, small, word)
        with ctx.Pool(1) as p:
            flag, none, small, word = False, None, 3, "off"
            print(p.map(f, [1]))

    elif case == "bound-builtin":
        # A builtin method bound to a table carries the table: sent again
        # after the table changed, it must carry the new one (in a cell, a
        # default); len and math.sqrt are bound to their modules.
        import math
        table = {"a": 1}

        def make(g):
            return lambda k: g(k)
        h = make(table.get)
        d = lambda k, g=table.get, sq=math.sqrt: (g(k), sq(4), len("ab"))  # noqa: E731
        with ctx.Pool(1) as p:
            out = []
            for i in range(3):
                table["a"] = i
                out.append((p.apply(h, ("a",)), p.apply(d, ("a",))))
        print(out)

    elif case == "initializer":
        # A main-block initializer rebinds a name a main-block def reads:
        # the worker bound it itself, and reads its own, as under python3.
        cache = None

        def init():
            global cache
            cache = [1, 2, 3]

        def work(x):
            return cache[x]
        with ctx.Pool(1, initializer=init) as p:
            print(p.map(work, range(3)))

    elif case == "lazy-global":
        cache = None

        def get():
            global cache
            if cache is None:
                cache = [10, 20, 30]
            return cache

        def work(x):
            return get()[x]
        with ctx.Pool(1) as p:
            print(p.map(work, range(3)))

    elif case == "identity":
        # Sent again and again, a held def stays the worker's own, as a
        # reference: the second send must not go by value.
        def f(x):
            return x
        with ctx.Pool(1) as p:
            print([p.apply(is_main_f, (f,)) for _ in range(3)], p.map(is_main_f, [f] * 3))

    elif case == "class-changes":
        # A main-block class sent by value again and again (no worker
        # holds it): each send carries the class as it is now, though its
        # reduce and fallback are reused while it is provably unchanged.
        SCALE = 2

        class C:
            table = {"k": 1}
            seen = []

            def __init__(self, v):
                self.v = v

            def get(self):
                return self.v * SCALE + C.table["k"] + len(C.seen)
        out = []
        with ctx.Pool(1) as p:
            for step in range(7):
                out.append(p.apply(use, (C(1),)))
                out.append(p.apply(use, (C(1),)))
                if step == 0:
                    SCALE = 10
                elif step == 1:
                    C.table["k"] = 5
                elif step == 2:
                    C.seen.append(None)
                elif step == 3:
                    C.get = lambda self: -self.v
                elif step == 4:
                    bump = 100
                    C.get = lambda self: bump + self.v
                elif step == 5:
                    bump = 200
        print(out)

    elif case == "byref-rebound":
        # A top-level def goes by reference while its module finds it under
        # its name (sent again, nothing asks the policy); once the name is
        # rebound or the def renamed, it must go by value.
        with ctx.Pool(1) as p:
            old = top
            out = [p.apply(call, (old, n)) for n in range(2)]
            globals()["top"] = lambda x: "other %d" % x
            out.append(p.apply(call, (old, 2)))
            globals()["top"] = old
            out.append(p.apply(call, (old, 3)))
            old.__qualname__ = "call"
            out.append(p.apply(call, (old, 4)))
        print(out)

    elif case == "redefined":
        def f():
            return "old"
        manager = ctx.Manager()
        with ctx.Pool(1) as p:
            def f():  # noqa: F811
                return "new"
            if method == "fork":  # a spawned worker has no f of its own
                old = p.apply(main_f)
                print(old(), f())

            def h(x):
                return x + 1
            d = manager.dict()
            d["h"] = h
            print(d["h"](1))
        manager.shutdown()

    elif case == "typevar":
        # typing imported after the patch (and, the second time, after
        # the fork): a main-block TypeVar and a generic over it come back
        # as the sender's own objects, as python3 gives under fork.
        import typing
        T = typing.TypeVar("T")

        class Box(typing.Generic[T]):
            pass
        with ctx.Pool(1) as p:
            out = [p.apply(ident, (T,)) is T, p.apply(lambda: Box[T]) == Box[T]]
            T = typing.TypeVar("T", int, str)  # rebound after the fork
            out += [p.apply(lambda: T) is T, p.apply(lambda: T.__constraints__)]
        print(out)

    elif case == "typing-kin":
        # As "typevar", for the kin cloudpickle sends by name only.
        import typing
        made = (lambda: typing.ParamSpec("P"), lambda: typing.TypeVarTuple("Ts"),
                lambda: typing.NewType("N", int))
        with ctx.Pool(1) as p:
            out = []
            for make in made:
                X = make()
                out.append(p.apply(ident, (X,)) is X and p.apply(lambda: X) is X)
            P = typing.ParamSpec("P", bound=int)  # bound after the fork
            N = typing.NewType("N", str)
            out += [p.apply(lambda: P.__bound__), p.apply(lambda: N.__supertype__)]
        print(out)
