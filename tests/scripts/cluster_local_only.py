"""Under --cluster, what lives on this machine keeps working here, and a
task that holds such an object is refused in one line naming it."""
import concurrent.futures as cf
import multiprocessing as mp


def put(q, x):
    q.put(x)


def ident(x):
    return x


def report(what, exc):
    print("%s: %s: %s" % (what, type(exc).__name__, exc), flush=True)


if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=put, args=(q, "local process"))
    p.start()
    print(q.get(timeout=60))
    p.join()
    with mp.Pool(2) as pool:
        try:
            pool.apply(put, (q, 1))
        except Exception as exc:
            report("apply", exc)
        manager = mp.Manager()
        try:
            pool.map(ident, [1, 2, manager.list()])
        except Exception as exc:
            report("map", exc)
        manager.shutdown()
        a, b = mp.Pipe()
        try:
            pool.apply(lambda: a.send(1))
        except Exception as exc:
            report("closure", exc)
        print("pool still works:", pool.map(ident, range(3)))
    try:
        mp.Pool(2, initializer=ident, initargs=(mp.Lock(),))
    except Exception as exc:
        report("initargs", exc)
    with cf.ProcessPoolExecutor(2) as ex:
        report("submit", ex.submit(ident, x=mp.Event()).exception(60))
    print("end")
