"""The instruction-count workload of bench/instructions.py:
sends.py N PICKLER CGMARK_SO.

Builds one object of each kind CASES names, sends and loads each a few
times (imports, first-send caches), then for each object and operation
runs N of it, then 0 of it, the same code, each followed by a callgrind
dump labelled "CASE OP N" (cgmark.c): the driver subtracts the two, so
the dump itself, the loop's set-up and everything before (start-up) cancel.
OP is "dumps" (multiprocessing.reduction.ForkingPickler.dumps, what a Pool
does to send a task) or "loads" (pickle.loads of those bytes, what a worker
does).  A collection first, unmeasured, starts each run with the same
collector state.  PICKLER: "forking" (whatever ForkingPickler is in this
process: stock, or cpmp's patch) or "cloudpickle" (cloudpickle's Pickler
in ForkingPickler's place, with ForkingPickler's reducers, as loky does).
Prints "cannot CASE: why" for an object this pickler cannot send.  Forks
once first, as a fork Pool does (the child exits at once).
"""
import copyreg
import ctypes
import gc
import os
import pickle
import sys
from collections import ChainMap
from multiprocessing import reduction

WARMUP = 10


def inc(x):
    return x + 1


class Record:
    """A class at the top level, as a library's or a script's own."""

    def __init__(self, x):
        self.x = x
        self.y = -x


def closure(k):
    def add(x):
        return x + k
    return add


def local_instance(x):
    class Local:
        def __init__(self, x):
            self.x = x
    return Local(x)


def cloudpickle_forking_pickler():
    """cloudpickle's Pickler with ForkingPickler's reducers and dumps."""
    import cloudpickle

    base = cloudpickle.Pickler

    class CloudForkingPickler(base):
        dispatch_table = ChainMap(reduction.ForkingPickler._extra_reducers,
                                  base._dispatch_table, copyreg.dispatch_table)
        dumps = classmethod(reduction.ForkingPickler.dumps.__func__)
        loads = pickle.loads

    return CloudForkingPickler


def measure(case, obj, n, dumps, mark):
    """Both operations on obj, N times and 0 times, each dumped; False
    when obj cannot be sent."""
    try:
        payload = bytes(dumps(obj))
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        print("cannot %s: %s" % (case, e))
        return False
    loads = pickle.loads
    for _ in range(WARMUP):
        loads(dumps(obj))
    for op, call, arg in (("dumps", dumps, obj), ("loads", loads, payload)):
        for count in (n, 0):
            gc.collect()
            mark(b"unmeasured")
            for _ in range(count):
                call(arg)
            mark(("%s %s %d" % (case, op, count)).encode())
    return True


if __name__ == "__main__":
    # A class and a lambda of the main block, as a script's own are.
    class Point:
        def __init__(self, x):
            self.x = x
            self.y = -x

    OBJECTS = {
        "def": inc,
        "data": [(i, -i) for i in range(10)],
        "record": Record(1),
        "instance": Point(1),
        "lambda": lambda x: x + 1,
        "closure": closure(1),
        "local-class": local_instance(1),
    }
    N, PICKLER = int(sys.argv[1]), sys.argv[2]
    mark = ctypes.CDLL(sys.argv[3]).cgmark
    mark.argtypes = [ctypes.c_char_p]
    if PICKLER == "cloudpickle":
        reduction.ForkingPickler = cloudpickle_forking_pickler()
    # Fork once, as a fork Pool starting its workers does: a forked
    # receiver holds what the main module binds (Point), which python3
    # sends by reference and cpmp as a reference to what it holds.
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    for case, obj in OBJECTS.items():
        measure(case, obj, N, reduction.ForkingPickler.dumps, mark)
