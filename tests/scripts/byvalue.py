"""A module the workers cannot import (byvalue.py): it appears on sys.path
only after they started.  Prints what comes back, or the error type."""
import multiprocessing
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        ex.submit(int).result()  # the worker starts with today's sys.path
        where = tempfile.mkdtemp()
        with open(os.path.join(where, "helper.py"), "w") as f:
            f.write("FACTOR = 6\n"
                    "def times(x):\n    return x * FACTOR\n"
                    "class Box:\n    def __init__(self, v):\n        self.v = v\n")
        sys.path.insert(0, where)
        import helper
        try:
            print(ex.submit(helper.times, 7).result(), ex.submit(helper.Box, 5).result().v)
        except Exception as exc:
            print(type(exc).__name__)
