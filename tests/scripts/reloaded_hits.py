"""A payload loaded again (cpmp._code._built, answered in C by _load.c
where the extension is loaded) gives what its first load gave: the
function's __module__, its code's file (the module's __file__ as it is
now), its globals (in a spawned child, the dict the script's own functions
use, not __mp_main__'s copy), cells of its own.  Prints one line per
check; the same with the C, with the caches off and without the C.

    reloaded_hits.py
"""
import multiprocessing as mp
import pickle
import sys
from multiprocessing.reduction import ForkingPickler


def top(x):
    return x


def in_worker(n):
    f = (lambda: (top(n), globals() is top.__globals__))
    return f


def call(f, *args):
    return f(*args)


def loads_twice(payload):
    a, b = pickle.loads(payload), pickle.loads(payload)
    return (a is not b, a.__module__, b.__module__, a.__code__.co_filename == b.__code__.co_filename,
            b(), b.__globals__ is top.__globals__)


def main():
    f = lambda: top(1)  # noqa: E731
    payload = bytes(ForkingPickler.dumps(f))
    first, again = pickle.loads(payload), pickle.loads(payload)
    print("module", first.__module__, again.__module__, again())
    print("file", again.__code__.co_filename == __file__)
    main = sys.modules["__main__"]
    real = main.__file__
    main.__file__ = "/elsewhere/moved.py"
    try:
        print("moved", pickle.loads(payload).__code__.co_filename)
    finally:
        main.__file__ = real
    print("back", pickle.loads(payload).__code__.co_filename == real)
    k = 5
    g = lambda: k  # noqa: E731
    payload = bytes(ForkingPickler.dumps(g))
    a, b = pickle.loads(payload), pickle.loads(payload)
    print("cells", a.__closure__[0] is not b.__closure__[0], a(), b())
    with mp.get_context("spawn").Pool(1) as pool:
        task = bytes(ForkingPickler.dumps(lambda: (top(7), globals() is top.__globals__)))
        print("spawn", pool.apply(loads_twice, (task,)))
        print("spawn-sent", [pool.apply(call, (in_worker(3),)) for _ in range(3)])


if __name__ == "__main__":
    main()
