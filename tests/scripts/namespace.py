"""What a function received by value sees, everywhere inside its code:
class bodies, eval, imports, globals(), builtins the task patches (issue "Sound by construction": a received
function behaves as cloudpickle's does, except for its module's live
globals).  Each case prints what python3 prints for the same program
with top-level defs (or, where the model says so, what cloudpickle
gives).

    namespace.py CASE METHOD
"""

import builtins
import math
import multiprocessing as mp
import pickle
import sys
import warnings
from math import pow  # shadows the builtin, as `from math import *` does


def init():
    global LATE
    LATE = "the worker's"


if __name__ == "__main__":
    case, method = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)
    K = 3

    if case == "class-body":
        # A class body and module-level eval read names by the dict API.
        def f(_):
            class A:
                x = math.pi * K
                y = [math.e * K for _ in range(1)][0]
            return (round(A.x, 3), round(A.y, 3), eval("math.tau > K"),
                    eval("K + 1", globals()))

        with ctx.Pool(1) as p:
            print(p.map(f, [0]), p.apply(lambda: type("B", (), {"k": K}).k))

    elif case == "builtins":
        # The task patches builtins, and sees its own patch, as a def would.
        def task():
            saved = builtins.open
            builtins.open = lambda *a: "patched"
            builtins.cpmp_added = K
            try:
                return open("/nonexistent"), eval("cpmp_added")
            finally:
                builtins.open = saved
                del builtins.cpmp_added

        with ctx.Pool(1) as p:
            print(p.apply(task), p.apply(lambda: (task(), K)))

    elif case == "globals":
        # globals() inside holds the names sent with the function, and
        # `in` and get() find the module's too, as cloudpickle asks them
        # (cloudpickle.dumps of the received function lost them).
        with ctx.Pool(1) as p:
            print(p.apply(lambda: (K, globals().get("K"), globals()["math"] is math,
                                   "K" in globals(), "math" in globals(),
                                   globals().get("pickle") is pickle, "len" in globals(),
                                   globals().get("nothing", 0))),
                  p.apply(lambda f: pickle.loads(__import__("cloudpickle").dumps(f))(),
                          (lambda: (K, math.floor(1.5), pickle.HIGHEST_PROTOCOL > 0),)))

    elif case == "internals":
        # What C code reads from builtins and globals by the dict API:
        # __import__, iter for an iterator's reduce, __name__ for warnings.
        def g():
            import json

            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                warnings.warn("w%d" % K)
            return (json.dumps([K]), list(pickle.loads(pickle.dumps(iter([K, 4])))),
                    [str(w.message) for w in seen], __name__ in ("__main__", "__mp_main__"))

        with ctx.Pool(1) as p:
            print(p.apply(g))

    elif case == "shadowed":
        # A module name that shadows a builtin: code running on the
        # function's globals sees the module's, code given a dict of its
        # own only the builtins, as without cpmp; naming __builtins__
        # changes nothing.
        def task():
            assert __builtins__ is not None
            return pow(2, K), list(pow(2, k) for k in [K])

        with ctx.Pool(1) as p:
            print(p.apply(task), p.apply(lambda: (eval("pow(2, K)", {"K": K}),
                                                  eval("pow(2, K)", globals()))))

    elif case == "warn-once":
        # A warning shown once per process, as for a top-level def.
        def warn(i):
            warnings.warn("careful %d" % K)
            return i

        with ctx.Pool(1) as p:
            with warnings.catch_warnings():
                print(p.map(warn, range(4), chunksize=1))

    elif case == "writes-global":
        # A function that writes a global reads a main-block name rebound
        # after the fork as the sender has it, and one the worker's
        # initializer rebound as the worker has it.
        LIMIT, LATE = 1, "the sender's"
        with ctx.Pool(1, initializer=init) as p:
            LIMIT = 100

            def count():
                global calls
                calls = 1
                return LIMIT, LATE

            print(p.apply(count))
