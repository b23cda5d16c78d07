"""concurrent.futures.InterpreterPoolExecutor (3.14) sends what the standard
pickler cannot (issue 19): each case's answer through the executor, then
whether a ThreadPoolExecutor, which pickles nothing, gives the same.

    subinterp.py             the cases, one line each, then "same as threads: True"
    subinterp.py unpatch     cpmp.patch(), cpmp.unpatch(), then a lambda: refused as without cpmp
"""

import sys
from concurrent.futures import InterpreterPoolExecutor, ThreadPoolExecutor

T = 10


def top(x):  # by reference, as python3 sends it: the subinterpreter's copy of the script
    return x + T


def make_adder(n):
    return lambda x: x + n


class Point:
    def __init__(self, x):
        self.x = x


def make_point(x):
    return Point(x)


def boom(x):
    raise ValueError("bad %d" % x)


def local_class():
    class Local:
        def __init__(self, v):
            self.v = v

        def twice(self):
            return 2 * self.v

    return Local


def local_error():
    class LocalError(Exception):
        pass

    def fail(x):
        raise LocalError("local %d" % x)

    return LocalError, fail


def pickler(_):
    """Which path cpmp's pickler takes in this interpreter."""
    mods = [m for n, m in sys.modules.items() if n.endswith(".core._reduce")]
    return "C" if mods and mods[0].SPEEDUPS_PROBLEM is None else "pure Python"


def answer(ex, f, *args):
    try:
        r = ex.submit(f, *args).result()
    except Exception as exc:
        return "raises %s(%s)" % (type(exc).__name__, exc)
    if callable(r) and not isinstance(r, type):
        return "a function giving %r" % (r(1),)
    return r


def cases(ex, k, Main, Local, LocalError, fail):
    return [
        ("lambda", answer(ex, lambda x: x * k, 3)),
        ("closure", answer(ex, make_adder(k), 1)),
        ("def by reference", answer(ex, top, 1)),
        ("lambda reading a top-level name", answer(ex, lambda x: x + T, 1)),
        ("builtin", answer(ex, len, "abc")),
        ("result a closure", answer(ex, make_adder, 5)),
        ("result a lambda", answer(ex, lambda: lambda y: y - k)),
        ("local class", answer(ex, lambda v: Local(v).twice(), 4)),
        ("local class instance back", getattr(answer(ex, Local, 6), "v", "refused")),
        ("main-block class", answer(ex, lambda v: isinstance(Main(v), Main) and Main(v).v, 8)),
        ("main-block instance back is Main", isinstance(answer(ex, Main, 9), Main)),
        ("top-level instance back is Point", isinstance(answer(ex, make_point, 2), Point)),
        ("exception", answer(ex, boom, 4)),
        ("local exception", answer(ex, fail, 5)),
        ("local exception is LocalError", isinstance(_raised(ex, fail), LocalError)),
        ("map", list(ex.map(lambda x: x + k, range(3)))),
    ]


def _raised(ex, f):
    try:
        ex.submit(f, 1).result()
    except Exception as exc:
        return exc


def unpatch():
    import cpmp
    import concurrent.futures.interpreter as interpreter

    stock = interpreter.WorkerContext.run
    cpmp.patch()
    patched = interpreter.WorkerContext.run is not stock
    cpmp.unpatch()
    print("patched:", patched, "restored:", interpreter.WorkerContext.run is stock,
          "is_patched:", cpmp.is_patched())
    k = 1
    with InterpreterPoolExecutor(1) as ex:
        print(str(answer(ex, lambda x: x + k, 1)).split(" at 0x")[0])


def main():
    if sys.argv[1:] == ["unpatch"]:
        return unpatch()
    k = 3

    class Main:
        def __init__(self, v):
            self.v = v

    Local = local_class()
    LocalError, fail = local_error()
    with InterpreterPoolExecutor(2) as ex:
        got = cases(ex, k, Main, Local, LocalError, fail)
        print("pickler: main", pickler(0), "subinterpreter", ex.submit(pickler, 0).result())
    for name, value in got:
        print("%s: %s" % (name, value))
    with ThreadPoolExecutor(2) as ex:
        print("same as threads:", cases(ex, k, Main, Local, LocalError, fail) == got)


if __name__ == "__main__":
    main()
