"""What CPython sends between interpreters itself goes as without cpmp:
the same lines under python3 and cpmp, in the same order -- a stateless
lambda is CPython's to send (no copy of this script is run for it), a
top-level def goes by reference (the subinterpreter runs a copy of the
script, outside its main block), and what nobody can pickle fails with
the same exception.

    subinterp_shared.py
"""

import sys

print("script run as", __name__)
sys.stdout.flush()
FACTOR = 2


def top(x):
    return x * FACTOR


if __name__ == "__main__":
    import threading
    from concurrent.futures import InterpreterPoolExecutor

    with InterpreterPoolExecutor(1) as ex:
        print(ex.submit(len, "abc").result(), ex.submit(lambda: 7).result(),
              ex.submit(pow, 2, 10).result())
        sys.stdout.flush()
        print(ex.submit(top, 4).result())
        for refused in ((len, threading.Lock()), (threading.Lock,)):
            try:
                ex.submit(*refused).result()
            except Exception as exc:
                print(type(exc).__name__)
        print(ex.submit(top, 5).result())
