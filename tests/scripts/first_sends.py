"""Threads that send their first local classes at once: the first of them
imports cloudpickle, and the others must wait for that import, not take
the half-made module ("cloudpickle ? has no _BUILTIN_TYPE_NAMES"), and a
thread of the program importing it itself gets the same module, on every
Python, free-threaded or not.  Prints how many threads got their own class
back, what the program's import got, and each distinct error.

    first_sends.py
"""

import multiprocessing.reduction as reduction
import sys
import threading

THREADS = 32


def send(barrier, n, results):
    class Local:
        x = n

    barrier.wait()
    try:
        results[n] = reduction.ForkingPickler.loads(reduction.ForkingPickler.dumps(Local)).x
    except Exception as exc:
        results[n] = "%s: %s" % (type(exc).__name__, str(exc).split(" — ")[0])


def program_imports(barrier, results):
    """The program's own `import cloudpickle`, at the same moment: it must
    wait for cpmp's, and get the one module (not a second copy, not a
    _DeadlockError between cloudpickle's submodules)."""
    barrier.wait()
    try:
        import cloudpickle
    except Exception as exc:
        results["import"] = "%s: %s" % (type(exc).__name__, exc)
    else:
        results["import"] = cloudpickle is sys.modules["cloudpickle"]


def main():
    barrier, results = threading.Barrier(THREADS + 1), {}
    threads = [threading.Thread(target=send, args=(barrier, n, results)) for n in range(THREADS)]
    threads.append(threading.Thread(target=program_imports, args=(barrier, results)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = results.pop("import")
    print("%d of %d threads got their class back" % (sum(results[n] == n for n in results), THREADS))
    print("the program's own import: %s" % ("the one module" if got is True else got or "a copy"))
    for error in sorted({r for r in results.values() if isinstance(r, str)}):
        print(error)


if __name__ == "__main__":
    main()
