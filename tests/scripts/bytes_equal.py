"""Objects the standard pickler can send pickle to the same bytes patched."""
import functools
import collections
import multiprocessing.reduction as reduction

import cpmp


class Point:
    def __init__(self, x):
        self.x = x

    def norm(self):
        return abs(self.x)


def top(x):
    return x


samples = [
    1, "text", {"a": [1, 2.5, None]}, (b"raw", True), top, Point(3),
    functools.partial(top, 4), Point(5).norm,
    collections.OrderedDict(a=Point(1)),
]

cpmp.unpatch()
before = [bytes(reduction.ForkingPickler.dumps(s)) for s in samples]
cpmp.patch()
after = [bytes(reduction.ForkingPickler.dumps(s)) for s in samples]
same = sum(b == a for b, a in zip(before, after))
print("identical" if same == len(samples) else "DIFFERENT", same)
