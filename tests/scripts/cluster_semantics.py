"""The Pool and ProcessPoolExecutor API, as a program sees it: run with
`cpmp run` and with `cpmp run --cluster ...`, its stdout must be the same
bytes (cluster.bats).  Every line is independent of scheduling and of the
start method: unordered results are sorted, timing is not printed."""
import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import sys
import threading

OFFSET = 100  # bound at top level: workers have it by themselves
calls = []


def square(x):
    return x * x


def fail_on(x):
    if x == 3:
        raise KeyError("three")
    return x


def setup(value):
    global OFFSET
    OFFSET = value


def add_offset(x):
    return x + OFFSET


def shout(x):
    print("a task says", x, flush=True)
    return x


def show(label, value):
    print("%s: %r" % (label, value), flush=True)


def exception_line(exc):
    cause = exc.__cause__
    return "%s(%s) cause=%s remote=%s" % (type(exc).__name__, exc, type(cause).__name__,
                                          "Traceback" in str(cause))


def pool_api(method):
    ctx = mp.get_context(method)
    k = 7  # main block: only the sender has it
    with ctx.Pool(2) as pool:
        show("map lambda", pool.map(lambda x: x * k, range(6)))
        show("map top", pool.map(square, range(10), chunksize=3))
        show("map empty", pool.map(square, []))
        show("starmap", pool.starmap(divmod, [(7, 2), (9, 4)]))
        show("imap", list(pool.imap(square, iter(range(7)), chunksize=2)))
        show("imap_unordered", sorted(pool.imap_unordered(lambda x: -x, range(5))))
        show("apply kwargs", pool.apply(dict, (), {"a": 1}))
        show("apply printing", pool.apply(shout, ("hi",)))
        got = []
        done = threading.Event()
        r = pool.apply_async(square, (9,), callback=lambda v: (got.append(v), done.set()))
        show("apply_async", (r.get(60), done.wait(60), got))
        errors = []
        r = pool.apply_async(fail_on, (3,), error_callback=errors.append)
        r.wait(60)
        show("error_callback", (r.ready(), r.successful(), [type(e).__name__ for e in errors]))
        m = pool.map_async(square, range(4), callback=calls.append)
        show("map_async", (m.get(60), calls))
        show("starmap_async", pool.starmap_async(pow, [(2, 5)]).get(60))
        try:
            pool.map(fail_on, range(6), chunksize=1)
        except KeyError as exc:
            show("map raises", exception_line(exc))
        it = pool.imap(fail_on, range(5))
        show("imap until", [next(it) for _ in range(3)])
        try:
            next(it)
        except KeyError as exc:
            show("imap raises", type(exc).__name__)
        closures = [pool.apply(lambda: (lambda y: y + i)) for i in range(3)]
        show("returned closures", [c(10) for c in closures])
    results = []
    for i in range(3):  # the loop variable: each send sees its own value
        with ctx.Pool(1) as pool:
            results.append(pool.apply(lambda: i * 10))
    show("loop variable", results)
    with ctx.Pool(2, initializer=setup, initargs=(5,)) as pool:
        show("initializer", pool.map(add_offset, range(3)))
    with ctx.Pool(2) as pool:
        show("fresh pool after initializer", pool.map(add_offset, range(3)))
    pool = ctx.Pool(2)
    result = pool.map_async(square, range(5))
    pool.close()
    pool.join()
    show("close join", result.get(0))
    try:
        pool.apply(square, (1,))
    except ValueError as exc:
        show("closed pool", str(exc))


@dataclasses.dataclass
class Point:
    x: int
    y: int


def executor_api(method):
    ctx = mp.get_context(method)
    n = 3
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        futures = [ex.submit(lambda a, b=1: a * n + b, i, b=2) for i in range(5)]
        show("as_completed", sorted(f.result() for f in cf.as_completed(futures, timeout=60)))
        done, pending = cf.wait(futures, timeout=60)
        show("wait", (len(done), len(pending)))
        show("map", list(ex.map(square, range(8), timeout=60, chunksize=3)))
        show("map star", list(ex.map(pow, [2, 3], [3, 2])))
        show("submit printing", ex.submit(shout, "there").result(60))
        f = ex.submit(fail_on, 3)
        show("exception", exception_line(f.exception(60)))
        seen = []
        f = ex.submit(square, 4)
        f.add_done_callback(lambda fut: seen.append(fut.result()))
        f.result(60)
        show("done callback", seen)
        show("dataclass", ex.submit(lambda p: Point(p.y, p.x), Point(1, 2)).result(60))
        try:
            list(ex.map(fail_on, range(5)))
        except KeyError as exc:
            show("map raises", type(exc).__name__)
    with cf.ProcessPoolExecutor(1, initializer=setup, initargs=(1000,)) as ex:
        show("initializer", list(ex.map(add_offset, [1, 2])))
    ex = cf.ProcessPoolExecutor(2)
    ex.shutdown()
    try:
        ex.submit(square, 1)
    except RuntimeError as exc:
        show("after shutdown", str(exc))


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    pool_api(method)
    executor_api(method)
    show("end", method)
