"""Semantics a user relies on: semantics.py START_METHOD CASE (see run.bats)."""
import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

GREETING = "?"
STATE = {}
LEVEL = "import"


def init():
    global GREETING
    GREETING = "hi"


def greet(i):
    return GREETING + str(i)


def level(_):
    return LEVEL


def double(x):
    return x * 2


def counter():
    n = 0

    def bump():
        nonlocal n
        n += 1

    def get(_):
        return n
    return bump, get


def case(ctx, name):
    if name == "initializer":
        with ctx.Pool(2, initializer=init) as p:
            return p.map(greet, range(3))
    if name == "lambda-initializer":
        with ctx.Pool(2, initializer=lambda: STATE.update(g=1)) as p:
            a = p.map(lambda x: STATE.get("g", "?"), range(3))
        with ProcessPoolExecutor(2, mp_context=ctx, initializer=lambda: STATE.update(g=1)) as ex:
            b = list(ex.map(lambda x: STATE.get("g", "?"), range(3)))
        return "%s %s" % (a, b)
    if name == "main-block":
        with ctx.Pool(2) as p:
            return "%s %s" % (p.map(lambda x: x + OFFSET, [1, 2]), p.map(twice, [1, 2]))
    if name == "worker-globals":
        with ctx.Pool(2) as p:
            return "%s %s" % (p.map(lambda _: LEVEL, range(2)), p.map(level, range(2)))
    if name == "worker-globals-stock":
        with ctx.Pool(2) as p:
            return p.map(level, range(2))
    if name == "rebind":
        bump, get = counter()
        out = []
        with ctx.Pool(2) as p:
            for _ in range(3):
                bump()
                out.append(str(p.map(get, range(2))))
        return " ".join(out)
    if name == "no-cloudpickle":
        with ctx.Pool(2) as p:
            return "%s %s" % (p.map(double, range(3)), "cloudpickle" in sys.modules)
    if name == "unpicklable":
        with ctx.Pool(2) as p:
            try:
                p.apply(lambda x: x, (threading.Lock(),))
            except Exception as exc:
                first = "%s %s" % (type(exc).__name__, exc)
            return "%s; then %s" % (first, p.map(lambda x: x, [1, 2]))
    raise SystemExit("unknown case %r" % name)


if __name__ == "__main__":
    LEVEL = "main"
    OFFSET = 10

    def twice(x):
        return x * 2

    print(case(multiprocessing.get_context(sys.argv[1]), sys.argv[2]))
