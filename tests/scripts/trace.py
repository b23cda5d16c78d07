"""Sends by value from the parent (a lambda, many times) and from workers
(closures of one def, a local class): what CPMP_TRACE reports.
argv[1]: start method."""
import multiprocessing
import sys


def adder(n):
    def add(x):
        return x + n
    return add


def local_class():
    class Point:
        pass
    return Point


def work(x):
    return adder(x), local_class()


if __name__ == "__main__":
    with multiprocessing.get_context(sys.argv[1]).Pool(1) as pool:
        print(sum(pool.map(lambda x: x + 1, range(10), chunksize=2)))
        results = pool.map(work, range(3))
        print([f(1) for f, _ in results], results[0][1].__name__)
        pool.close()
        pool.join()
