"""One multiprocessing capability per run: capabilities.py START_METHOD NAME.

Prints one deterministic line, so a test can compare it; written as a user
would write it, with no knowledge of cpmp.
"""
import functools
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor


def make_closure(k):
    def times_k(x):
        return x * k
    return times_k


def make_local_class():
    class Scaler:
        def __init__(self, k):
            self.k = k

        def scale(self, x):
            return x * self.k

        def __repr__(self):
            return "Scaler(%d)" % self.k
    return Scaler


def child_with_pool(method, q):
    # A child that itself starts a Pool and maps a lambda.
    with multiprocessing.get_context(method).Pool(2) as p:
        q.put(p.map(lambda x: -x, [1, 2, 3]))


def run(method, name):
    ctx = multiprocessing.get_context(method)
    k = 3
    if name == "lambda":
        with ctx.Pool(2) as p:
            return p.map(lambda x: x ** 2, range(10))
    if name == "closure":
        with ctx.Pool(2) as p:
            return p.map(make_closure(k), [1, 2, 3])
    if name == "nested":
        def inner(x):
            return x + 100
        with ctx.Pool(2) as p:
            return p.map(inner, [1, 2])
    if name == "local-class":
        Scaler = make_local_class()
        with ctx.Pool(2) as p:
            return (p.map(Scaler(2).scale, [1, 2]), p.map(Scaler, [4, 5]))
    if name == "partial-lambda":
        with ctx.Pool(2) as p:
            return p.map(functools.partial(lambda a, x: a + x, 10), [1, 2])
    if name == "return-lambda":
        with ctx.Pool(2) as p:
            add_one = p.apply(lambda: (lambda y: y + 1))
            times_five = p.apply(make_closure, (5,))
            return (add_one(1), times_five(2))
    if name == "executor":
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            return list(ex.map(lambda x: x * k, [1, 2, 3]))
    if name == "process":
        q = ctx.Queue()
        proc = ctx.Process(target=lambda q: q.put(lambda: "from child"), args=(q,))
        proc.start()
        got = q.get()()
        proc.join()
        return (got, proc.exitcode)
    if name == "grandchild":
        q = ctx.Queue()
        proc = ctx.Process(target=child_with_pool, args=(method, q))
        proc.start()
        got = q.get()
        proc.join()
        return (got, proc.exitcode)
    raise SystemExit("unknown capability %r" % name)


if __name__ == "__main__":
    print(sys.argv[2], run(sys.argv[1], sys.argv[2]))
