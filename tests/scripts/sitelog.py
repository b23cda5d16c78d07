"""What ran at start-up, in which process and order (the $SITELOG file),
with a spawn Pool whose workers start interpreters too."""
import multiprocessing
import os
import sys


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        print(pool.map(square if sys.argv[1:] != ["lambda"] else (lambda x: x * x), [3]))
    with open(os.environ["SITELOG"]) as log:
        print(log.read(), end="")
    print([p for p in sys.path if "extra" in p])
