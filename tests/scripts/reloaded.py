"""The same payload loaded again (the receiver keeps what it built the code
from, _code.built): each function has cells of its own, a list in a cell
is a new one at each load, and a lambda reads its module's names live.
"""
import pickle
from multiprocessing import reduction


def counter(start):
    n = start
    def bump():
        nonlocal n
        n += 1
        return n
    return bump


def holder():
    items = []
    def add(x):
        items.append(x)
        return list(items)
    return add


if __name__ == "__main__":
    b = bytes(reduction.ForkingPickler.dumps(counter(10)))
    f1, f2, f3 = (pickle.loads(b) for _ in range(3))
    print(f1(), f1(), f2(), f3(), f1.__closure__[0] is f2.__closure__[0])
    h = bytes(reduction.ForkingPickler.dumps(holder()))
    g1, g2 = pickle.loads(h), pickle.loads(h)
    print(g1(1), g1(2), g2(3))
    lam = bytes(reduction.ForkingPickler.dumps(lambda: K))  # noqa: F821 (bound below)
    K = 5
    l1, l2 = pickle.loads(lam), pickle.loads(lam)
    K = 6
    print(l1(), l2(), l1 is l2)
