"""Sending the same function again: cheap, and never stale (resend.py).

Pickles functions with multiprocessing's pickler and loads them back, as a
worker would, after changing what they carry between sends.  Prints one
line per case; the first word says whether the change arrived.
"""
import pickle
import multiprocessing.reduction as reduction

import cpmp

cpmp.patch()


def send(obj):
    return pickle.loads(reduction.ForkingPickler.dumps(obj))


def make_counter():
    n = 0

    def bump():
        nonlocal n
        n += 1

    def get():
        return n
    return bump, get


def main():
    out = []
    # An unchanged closure goes as the very same bytes, and each load is a
    # function of its own, as a fresh unpickle gives.
    k = 3
    f = lambda x: x * k  # noqa: E731
    a, b = reduction.ForkingPickler.dumps(f), reduction.ForkingPickler.dumps(f)
    fa, fb = pickle.loads(a), pickle.loads(b)
    out.append("same-bytes %s own-function %s" % (bytes(a) == bytes(b),
                                                  fa is not fb and fa(2) == fb(2) == 6))
    # A rebound cell.
    bump, get = make_counter()
    seen = []
    for _ in range(3):
        bump()
        seen.append(send(get)())
    out.append("cell %s" % seen)
    # A list in a cell, changed in place.
    items = [1]
    g = lambda: list(items)  # noqa: E731
    first = send(g)()
    items.append(2)
    out.append("mutable-cell %s %s" % (first, send(g)()))
    # Defaults replaced, keyword defaults changed in place, an attribute set.
    h = lambda x=1, *, y=10: (x, y)  # noqa: E731
    first = send(h)()
    h.__defaults__ = (2,)
    second = send(h)()
    h.__kwdefaults__["y"] = 20
    third = send(h)()
    h.tag = "t"
    out.append("defaults %s %s %s %s" % (first, second, third, send(h).tag))
    # The code travels: a receiver whose copy of the enclosing function
    # differs (the file was edited while the program ran) runs what the
    # sender has.
    blob = reduction.ForkingPickler.dumps(f)
    saved, main.__code__ = main.__code__, (lambda: None).__code__
    try:
        out.append("changed-source %s" % pickle.loads(blob)(5))
    finally:
        main.__code__ = saved
    print(" | ".join(out))


main()
