"""Never a wrong answer: exact.py START_METHOD CASE (see exact.bats).

Each case is a program of the kind people write, reduced; each prints one
line.  Written with no knowledge of cpmp.
"""
import dataclasses
import enum
import functools
import multiprocessing
import os
import sys
import threading
from collections import namedtuple
from concurrent.futures import ProcessPoolExecutor

STATE = "unset"


def init():
    global STATE
    STATE = "set"


def read_state(_):
    return STATE


def make_counter():
    n = 0

    def bump(_):
        nonlocal n
        n += 1
        return n
    return bump


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1 << 20)


def big_closure(seed):
    blob = bytes([seed % 256]) * (20 << 20)

    def first(_):
        return blob[0] + rss_mb() * 0
    return first


def local_dataclass():
    @dataclasses.dataclass
    class Item:
        name: str
        qty: int = 1

        def total(self):
            return self.qty * 2
    return Item


def check_item(obj):
    return (type(obj).__name__, [f.name for f in dataclasses.fields(obj)], obj.total(),
            dataclasses.asdict(obj))


def case(ctx, name):
    if name == "init-rebind":
        with ctx.Pool(2, initializer=init) as p:
            return p.map(lambda _: STATE, [0, 1]), p.map(read_state, [0, 1])
    if name == "init-rebind-stock":
        with ctx.Pool(2, initializer=init) as p:
            return p.map(read_state, [0, 1])
    if name == "init-rebind-executor":
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=init) as ex:
            return list(ex.map(lambda _: STATE, [0])), list(ex.map(read_state, [0]))
    if name == "independent-closures":
        a, b = make_counter(), make_counter()
        with ctx.Pool(1) as p:
            return p.map(a, range(3), chunksize=1), p.map(b, range(3), chunksize=1)
    if name == "no-retention":
        # Each iteration sends a new 20 MB closure; a worker must not keep them.
        with ctx.Pool(1) as p:
            before = p.apply(rss_mb)
            for i in range(20):
                p.map(big_closure(i), [0])
            after = p.apply(rss_mb)
        return "grew %s" % ("under 100 MB" if after - before < 100 else "%d MB" % (after - before))
    if name == "dataclass":
        Item = local_dataclass()
        with ctx.Pool(1) as p:
            local = p.apply(check_item, (Item("a", 3),))
            main = p.apply(lambda: check_item(MainItem("b")))
            back = p.apply(lambda: MainItem("c", 5))
        return local, main, (back, isinstance(back, MainItem))
    if name == "identity":
        # Main-block classes, as stock python3 sends them under fork.
        with ctx.Pool(1) as p:
            point = p.apply(lambda: Point(1, 2))
            color = p.apply(lambda: Color.RED)
            pair = p.apply(lambda: Pair(1, 2))
            if ctx.get_start_method() != "fork":
                return isinstance(point, Point), color is Color.RED, isinstance(pair, Pair)
            # Only a forked worker has them under their names, and only fork
            # can give a worker these two (cloudpickle cannot send them).
            same = p.apply(make_checker(), (Point(3, 4), Color.BLUE))
            cached = p.apply(lambda: Cached().value)
            locked = p.apply(lambda: Locked.lock.acquire(timeout=1))
        return (isinstance(point, Point), color is Color.RED, isinstance(pair, Pair), same,
                cached, locked)
    if name == "inherited":
        # Objects that only travel through inheritance, read as globals.
        with ctx.Pool(2) as p:
            p.map(lambda _: add_one(), range(10))
            head = p.apply(lambda: HANDLE.name)
            with_lock = p.apply(lambda: LOCK.acquire(timeout=1) and (LOCK.release() or "ok"))
        return COUNT.value, head == HANDLE.name, with_lock
    if name == "not-inherited":
        # A spawned worker cannot have them: the task fails, clearly.
        with ctx.Pool(1) as p:
            try:
                p.apply(lambda: LOCK.acquire(timeout=1))
            except Exception as exc:
                return "%s: %s" % (type(exc).__name__, str(exc).split(";")[0])
    raise SystemExit("unknown case %r" % name)


def make_checker():
    def check(point, color):
        main = sys.modules["__main__"]
        return (type(point) is main.Point, color is main.Color.BLUE)
    return check


def add_one():
    main = sys.modules["__main__"]
    with main.COUNT.get_lock():
        main.COUNT.value += 1


if __name__ == "__main__":
    @dataclasses.dataclass
    class MainItem:
        name: str
        qty: int = 1
        total = lambda self: self.qty * 2  # noqa: E731 (a lambda method, sent too)

    Point = namedtuple("Point", "x y")
    Pair = namedtuple("Pair", "a b")
    Color = enum.Enum("Color", "RED BLUE")

    class Cached:
        @functools.cached_property
        def value(self):
            return 42

    class Locked:
        lock = threading.Lock()

    ctx = multiprocessing.get_context(sys.argv[1])
    # The loop variable of the main block is a global of the main module.
    if sys.argv[2] == "loop-lambda":
        with ctx.Pool(2) as p:
            for k in range(4):
                print(p.map(lambda x: x + k, range(3)), end=" ")
        sys.exit(print())
    if sys.argv[2] == "loop-def":
        with ctx.Pool(2) as p:
            for k in range(3):
                def add(x):
                    return x + k
                print(p.map(add, range(3)), end=" ")
        sys.exit(print())
    if sys.argv[2] == "loop-def-before":
        def add(x):
            return x + k
        k = 0
        with ctx.Pool(2) as p:
            for k in range(3):
                print(p.map(add, range(3)), end=" ")
        sys.exit(print())
    if sys.argv[2] == "namespaces":
        # What namespace a received lambda reads: the module's own dict
        # (fast global lookups) when it reads only names the module binds
        # itself, or binds to what was sent (in a worker), else one of its
        # own holding the sender's values.
        K = 1
        with ctx.Pool(1) as p:
            own = p.apply(lambda: (type(globals()).__name__, callable(add_one)))
            first = p.apply(lambda: (type(globals()).__name__, K))
            K = 2
            print(own, first, p.apply(lambda: (type(globals()).__name__, K)))
        sys.exit()
    if sys.argv[2] == "older-worker":
        # A worker forked before BIG was bound, while a later fork pinned it:
        # the older one gets BIG by value, the newer one holds it.
        with ctx.Pool(1) as p1:
            BIG = [1, 2, 3]
            with ctx.Pool(1) as p2:
                print(p1.apply(lambda: BIG), p2.apply(lambda: BIG is not None and len(BIG)))
        sys.exit()
    if sys.argv[2] == "mixed":
        # A lock only a forked worker can hold, with a spawn pool alive too:
        # the fork pool works, the spawn pool's task fails clearly, and both
        # pools stay usable.
        LOCK = threading.Lock()
        with ctx.Pool(1) as forked, multiprocessing.get_context("spawn").Pool(1) as spawned:
            print(forked.apply(lambda: LOCK.acquire(timeout=1)), end=" ")
            try:
                spawned.apply(lambda: LOCK.acquire(timeout=1))
            except Exception as exc:
                print(type(exc).__name__, str(exc).split(" (")[0], end=" ")
            print(forked.apply(lambda: 1), spawned.apply(lambda: 2))
        sys.exit()
    if sys.argv[2] == "lifetime":
        # What a worker may hold is never kept alive for it: a file the
        # main block drops is closed at once, an object finalized at once.
        class Tracked:
            def __del__(self):
                print("finalized", end=" ")
        path = os.path.join(sys.argv[3], "out.txt")
        out, obj = open(path, "w"), Tracked()
        with ctx.Pool(1) as p:
            p.apply(lambda: 0)
            out.write("written")
            del out, obj
            print(open(path).read())
        sys.exit()
    if sys.argv[2] == "loop-executor":
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            for k in range(3):
                print(list(ex.map(lambda x: x * k, range(3))), end=" ")
        sys.exit(print())
    if sys.argv[2] in ("inherited", "not-inherited"):
        COUNT = ctx.Value("i", 0)
        LOCK = threading.Lock()
        HANDLE = open(__file__)
    print(case(ctx, sys.argv[2]))
