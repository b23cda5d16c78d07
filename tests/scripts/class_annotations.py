"""A local class's annotations reach the workers, an ABC's too (3.14 keeps
them in a function whose cell holds the class body's namespace, PEP 649:
Debian's cloudpickle 2.2.0 cannot pickle it for an ABC, 3.1.2 drops it).

    class_annotations.py METHOD
"""

import abc
import multiprocessing as mp
import sys


def local_classes():
    class Shape(abc.ABC):
        sides: int
        name: str = "shape"

        @abc.abstractmethod
        def area(self):
            ...

    class Square(Shape):
        side: float

        def __init__(self, side):
            self.side = side

        def area(self):
            return self.side ** 2

    class Plain:
        x: int
        y: "list[int]"

    return Shape, Square, Plain


def main():
    Shape, Square, Plain = local_classes()
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        print(p.apply(lambda: (Shape.__annotations__, Square.__annotations__)),
              p.apply(lambda: Square(3).area()), p.apply(lambda: isinstance(Square(1), Shape)),
              p.apply(lambda: dict(Plain.__annotations__)))


if __name__ == "__main__":
    main()
