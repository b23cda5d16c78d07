"""One timed multiprocessing workload: mp.py WORKLOAD FORM [LIBRARY [ITEMS]].

FORM is "def" (a top-level function: what stock python3 can run) or
"lambda".  WORKLOAD: map, imap, instances, global, numpy, large (10 x
80 MB numpy arrays through Pool(2).map, doubled), large-bytes (the same
with bytes, extended by one byte).  LIBRARY is multiprocessing (default), multiprocess (dill) or
joblib.  ITEMS: how many items map and joblib send (default 1e6 for map,
1e5 for joblib).  Prints the seconds the work took, start-up and pool
creation excluded.
"""
import sys
import time

WORKLOAD, FORM = sys.argv[1], sys.argv[2]
LIBRARY = sys.argv[3] if len(sys.argv) > 3 else "multiprocessing"
ITEMS = int(sys.argv[4]) if len(sys.argv) > 4 else None


class Point:
    def __init__(self, i):
        self.x = i
        self.y = -i
        self.tag = "p"


def inc(x):
    return x + 1


def identity(a):
    return a


def count(objs):
    return len(objs)


def double(a):
    return a * 2


def extend(b):
    return b + b[:1]


def large_data():
    """10 x 80 MB: numpy arrays ("large") or bytes ("large-bytes")."""
    import numpy as np
    if WORKLOAD == "large":
        return [np.full(10_000_000, i, dtype=np.float64) for i in range(10)]
    return [bytes([i]) * 80_000_000 for i in range(10)]


def large_function():
    if WORKLOAD == "large":
        return double if FORM == "def" else (lambda a: a * 2)
    return extend if FORM == "def" else (lambda b: b + b[:1])


def lookup(i):
    return TABLE[i]  # noqa: F821 (bound in the main block)


def timed(pool):
    if WORKLOAD == "map":
        f = inc if FORM == "def" else (lambda x: x + 1)
        n = ITEMS or 1_000_000
        t = time.perf_counter()
        assert pool.map(f, range(n))[-1] == n
    elif WORKLOAD == "imap":
        f = inc if FORM == "def" else (lambda x: x + 1)
        t = time.perf_counter()
        assert sum(pool.imap(f, range(50_000), chunksize=1)) == 50_000 * 50_001 // 2
    elif WORKLOAD == "instances":
        f = count if FORM == "def" else (lambda objs: len(objs))
        objs = [Point(i) for i in range(100_000)]
        t = time.perf_counter()
        for _ in range(5):
            assert pool.apply(f, (objs,)) == 100_000
    elif WORKLOAD == "global":
        # A large main-block global read by every task (a forked worker
        # holds it: nothing may copy it per task).
        f = lookup if FORM == "def" else (lambda i: TABLE[i])  # noqa: F821
        t = time.perf_counter()
        assert sum(pool.imap(f, range(20_000), chunksize=1)) == 20_000 * 19_999 // 2
    elif WORKLOAD == "numpy":
        import numpy as np
        f = identity if FORM == "def" else (lambda a: a)
        arrays = [np.full(1_000_000, i, dtype=np.float64) for i in range(10)]  # 8 MB each
        t = time.perf_counter()
        for a in arrays:
            assert pool.apply(f, (a,))[0] == a[0]
    elif WORKLOAD in ("large", "large-bytes"):
        data, f = large_data(), large_function()
        t = time.perf_counter()
        out = pool.map(f, data)
        assert len(out) == 10 and len(out[-1]) == len(data[-1]) + (WORKLOAD == "large-bytes")
    else:
        raise SystemExit("unknown workload " + WORKLOAD)
    return time.perf_counter() - t


def joblib_timed():
    from joblib import Parallel, delayed
    if WORKLOAD in ("large", "large-bytes"):
        # joblib's memmapping of large arguments (numpy arrays only).
        data, f = large_data(), large_function()
        with Parallel(n_jobs=2, max_nbytes="1M") as parallel:
            parallel(delayed(inc)(i) for i in range(10))  # start the workers
            t = time.perf_counter()
            out = parallel(delayed(f)(a) for a in data)
            assert len(out) == 10
        return time.perf_counter() - t
    f = inc if FORM == "def" else (lambda x: x + 1)
    n = ITEMS or (100_000 if WORKLOAD == "map" else 50_000)
    with Parallel(n_jobs=2) as parallel:
        parallel(delayed(f)(i) for i in range(10))  # start the workers
        t = time.perf_counter()
        assert sum(parallel(delayed(f)(i) for i in range(n))) == n * (n + 1) // 2
    return time.perf_counter() - t


if __name__ == "__main__":
    if LIBRARY == "joblib":
        print(joblib_timed())
    else:
        mp = __import__(LIBRARY)
        if WORKLOAD == "global":
            TABLE = list(range(1_000_000))  # 8 MB of pointers, 36 MB in all
        with mp.Pool(1 if WORKLOAD in ("instances", "numpy") else 2) as pool:
            pool.map(inc, range(4))  # the workers are up before timing
            print(timed(pool))
