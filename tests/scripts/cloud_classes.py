"""Local classes whose skeleton Debian's cloudpickle 2.2.0 makes wrong
(fixed in 2.2.1): a NamedTuple's cannot be made at all (KeyError
'__module__' in the worker, whose pool then replaces it forever), and an
ABC's is made in module abc.

    cloud_classes.py METHOD
"""

import abc, multiprocessing as mp, sys, typing
def main():
    class Pair(typing.NamedTuple):
        a: int
        b: str = "x"
    class Base(abc.ABC):
        @abc.abstractmethod
        def g(self): ...
    class Impl(Base):
        def g(self): return 5
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        print(p.apply(lambda: Pair(2)), p.apply(lambda: Impl.__module__), p.apply(lambda: Impl().g()))
if __name__ == "__main__":
    main()
