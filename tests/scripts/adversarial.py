"""Programs a hostile review found wrong, each printing what python3 with
top-level defs, or cloudpickle, gives.

    adversarial.py CASE METHOD [DIR]
"""

import multiprocessing as mp
import os
import sys
import time
from multiprocessing.reduction import ForkingPickler


def call(fn, *args):
    return fn(*args)


def ident(x):
    return x


def info(cls):
    return cls.get("a"), cls.__name__, cls.m(None)


def case_self_containing(ctx):
    # A class attribute that holds itself: no snapshot, sent afresh.
    class C:
        items = []

        def m(self):
            return 7
    C.items.append(C.items)
    with ctx.Pool(1) as p:
        print([p.apply(call, (lambda c: (len(c.items), c.items[0] is c.items, c.m(None)), C))
               for _ in range(2)])


def case_renamed(ctx):
    # The name lives in the type, not its dict; a builtin method in the dict
    # carries its table.  A fresh worker per task: a worker that rebuilt
    # the class keeps it (cloudpickle's class tracking) and updates its dict.
    table = {"a": 0}

    class C:
        get = table.get

        def m(self):
            return 1
    out = []
    with ctx.Pool(1, maxtasksperchild=1) as p:
        for i in range(3):
            table["a"] = i
            out.append(p.apply(info, (C,)))
        C.__name__ = "Renamed"
        out.append(p.apply(info, (C,)))
    print(out)


def case_c_type(ctx):
    # A C type not found under its name cannot be rebuilt: refused at send,
    # as python3 refuses it, and the pool lives on.
    with ctx.Pool(1) as p:
        try:
            p.apply(ident, (type(iter([])),))
        except Exception as exc:
            print(type(exc).__name__, "list_iterator" in str(exc))
        print(p.apply(ident, (1,)))


def case_monkeypatched(ctx):
    # A helper sent by reference, then replaced in its module: the lambda's
    # helper is the old function, sent by value now.
    sys.path.insert(0, sys.argv[3])
    import adv_helper
    from adv_helper import helper
    f = lambda: helper()  # noqa: E731
    with ctx.Pool(1) as p:
        out = [p.apply(call, (f,)), p.apply(call, (f,))]
    adv_helper.helper = lambda: "new"
    with ctx.Pool(1) as p:
        out.append(p.apply(call, (f,)))
    print(out)


def outlived(ctx, f):
    # An os.fork child goes on after the program's process ended, and sends
    # a main-block def whose large fallback that process had stashed.
    with mp.get_context("fork").Pool(1) as p:
        p.apply(call, (f,))
    if os.fork() == 0:
        time.sleep(1)
        with ctx.Pool(1) as p:
            result = p.apply(call, (f,))
        with open(os.path.join(sys.argv[3], "out"), "w") as out:
            out.write("%d %d\n" % (result, len(ForkingPickler.dumps(f)) < 1000))
        os._exit(0)


def try_call(fn):
    try:
        return fn()
    except AttributeError:
        return "AttributeError"


def case_submodule_later(ctx):
    # A package read through a global: the submodules the receiver imports
    # are those the sender has imported at each send.
    import xml
    x = xml
    f = lambda: x.dom.minidom.parseString("<a/>").documentElement.tagName  # noqa: E731
    with ctx.Pool(1) as p:
        out = [p.apply(try_call, (f,)), p.apply(try_call, (f,))]
        import xml.dom.minidom  # noqa: F401
        out.append(p.apply(try_call, (f,)))
    print(out)


def is_main_f(g):
    import __main__

    return g is __main__.f


def case_pool_left_open(ctx):
    # Nothing sent by value, a pool never closed: the interpreter's exit
    # must go as under python3, without a traceback from Pool.__del__.
    global pool
    pool = ctx.Pool(1)
    print(pool.apply(ident, (3,)))


if __name__ == "__main__":
    if sys.argv[1] == "rebound-identity":
        # A main-block def pickled while no name found it, then bound
        # again: sent to a worker forked after that, it is the worker's own.
        def f():
            return 1
        g = f
        del f
        ForkingPickler.dumps(g)
        ForkingPickler.dumps(g)
        f = g
        with mp.get_context("fork").Pool(1) as p:
            print([p.apply(is_main_f, (f,)) for _ in range(3)])
    elif sys.argv[1] == "outlived":
        BIG = b"a" * (2 << 20)

        def f():
            return len(BIG)
        outlived(mp.get_context(sys.argv[2]), f)
    else:
        globals()["case_" + sys.argv[1].replace("-", "_")](mp.get_context(sys.argv[2]))
