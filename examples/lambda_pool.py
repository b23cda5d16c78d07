"""A script that stock python3 cannot run: lambdas, closures and a local
class cross process boundaries.  Run it with:  cpmp run examples/lambda_pool.py
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def make_scaler(k):
    def scale(x):
        return x * k
    return scale


def main():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        print("squares:  ", pool.map(lambda x: x ** 2, range(10)))
        print("closure:  ", pool.map(make_scaler(3), [1, 2, 3]))
        adder = pool.apply(lambda: (lambda y: y + 1))  # a worker returns a lambda
        print("returned: ", adder(41))

    class Point:  # a class defined inside a function
        def __init__(self, x):
            self.x = x

    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        print("executor: ", [p.x for p in ex.map(Point, [7, 8])])


if __name__ == "__main__":
    main()
