"""What broke on CPython 3.14 and 3.15 (issue 19): a local dataclass and an
annotated local class (3.15 shares the __dict__ and __weakref__
descriptors of every class), annotations naming what is not defined
(PEP 649), and the C fast path on a free-threaded build.

    new_pythons.py METHOD
"""

import multiprocessing as mp, sys, dataclasses
def main():
    @dataclasses.dataclass
    class Item:
        name: str
        qty: int = 1
    class Ann:
        x: int
        def f(self) -> "Later":
            return 1
    def g(x: "Undefined") -> "AlsoUndefined":
        return x * 2
    k = 3
    with mp.get_context(sys.argv[1]).Pool(2) as p:
        print(p.map(lambda x: x * k, [1, 2]), p.apply(lambda: Item("a", 2)).qty,
              p.apply(lambda: Ann().f()), p.map(g, [1]))
if __name__ == "__main__":
    main()
