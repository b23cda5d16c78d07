"""What broke on CPython 3.14 and 3.15 (issue 19): a local dataclass and an
annotated local class (3.15 shares the __dict__ and __weakref__
descriptors of every class), annotations naming what is not defined yet,
which 3.14 evaluates only when asked (PEP 649), and the C fast path on a
free-threaded build.

    new_pythons.py METHOD
"""

import dataclasses
import multiprocessing as mp
import sys

# A nested def annotated with names never defined: valid from 3.14 on only
# (compiled there, so that older Pythons and pyflakes can read this file).
LATER = '''
def make_later():
    def g(x: Undefined) -> AlsoUndefined:
        return x * 2
    return g
'''
exec(compile(LATER if sys.version_info >= (3, 14) else LATER.replace(": Undefined", "")
             .replace(" -> AlsoUndefined", ""), __file__, "exec"))


def main():
    @dataclasses.dataclass
    class Item:
        name: str
        qty: int = 1

    class Ann:
        x: int

        def f(self) -> int:
            return 1

    k = 3
    g = globals()["make_later"]()  # defined by the exec above
    with mp.get_context(sys.argv[1]).Pool(2) as p:
        print(p.map(lambda x: x * k, [1, 2]), p.apply(lambda: Item("a", 2)).qty,
              p.apply(lambda: Ann().f()), p.map(g, [1]), p.map(g, [2]))


if __name__ == "__main__":
    main()
