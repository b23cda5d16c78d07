"""Threads that send their first local classes at once: the first of them
imports cloudpickle, and the others must wait for that import, not take
the half-made module ("cloudpickle ? has no _BUILTIN_TYPE_NAMES"), on
every Python, free-threaded or not.  Prints how many threads got their own
class back, and each distinct error.

    first_sends.py
"""

import multiprocessing.reduction as reduction
import threading

THREADS = 16


def send(barrier, n, results):
    class Local:
        x = n

    barrier.wait()
    try:
        results[n] = reduction.ForkingPickler.loads(reduction.ForkingPickler.dumps(Local)).x
    except Exception as exc:
        results[n] = "%s: %s" % (type(exc).__name__, str(exc).split(" — ")[0])


def main():
    barrier, results = threading.Barrier(THREADS), {}
    threads = [threading.Thread(target=send, args=(barrier, n, results)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("%d of %d threads got their class back" % (sum(results[n] == n for n in results), THREADS))
    for error in sorted({r for r in results.values() if isinstance(r, str)}):
        print(error)


if __name__ == "__main__":
    main()
