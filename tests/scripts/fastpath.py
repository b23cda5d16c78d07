"""The C fast path is a cache in front of the Python policy (fastpath.py).

Prints: whether the C and pure-Python overrides pickle every case to the
same bytes, how often the C cache answered a resend, and what the C side
says of an entry layout it cannot read.
"""
import functools
import io
import json
import types

import cpmp
from cpmp.core import _reduce, _resend, _speedups


def top(x):
    return x


class Top:
    def method(self):
        return 1


def make():
    k = 3

    def inner(x):
        return x * k

    class Local:
        pass
    return inner, Local


def dumps(override, obj):
    pickler = _reduce.pickler_class()
    buf = io.BytesIO()
    p = pickler(buf)
    p.reducer_override = override
    p.dump(obj)
    return buf.getvalue()


if __name__ == "__main__":
    inner, Local = make()
    cases = {
        "top": top, "Top": Top, "method": Top().method, "lambda": lambda: 0, "inner": inner,
        "Local": Local, "instance": Local(), "json.dumps": json.dumps, "int": int,
        "partial": functools.partial(inner, 2), "mappingproxy": types.MappingProxyType({1: 2}),
        "list": [inner, inner, top, Top],
    }
    differ = []
    for name, obj in cases.items():
        _resend.sent.clear()
        py = dumps(_reduce._py_reducer_override, obj)
        _resend.sent.clear()
        c = dumps(_speedups.reducer_override, obj)
        if c != py:
            differ.append(name)
    print("same bytes:", differ or "all %d" % len(cases))
    _resend.sent.clear()
    before = _speedups.hits()
    first, second = cpmp.dumps(inner), cpmp.dumps(inner)
    print("cache hits on resend:", _speedups.hits() - before, first == second)
    broken = tuple(f for f in _resend.ENTRY if f != "cells")
    try:
        _speedups.set_hooks(_reduce._send.reduce_function, _reduce._send.reduce_class,
                            _reduce.reduce_module_subclass, {}, None, _resend.PINNED, broken)
    except ValueError as exc:
        print("refused:", exc)
