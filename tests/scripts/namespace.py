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
        # globals() inside holds the names sent with the function.
        with ctx.Pool(1) as p:
            print(p.apply(lambda: (K, globals().get("K"), globals()["math"] is math,
                                   "K" in globals())))

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
