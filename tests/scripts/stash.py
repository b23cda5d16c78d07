"""A main-block def reading a large immutable global, under -c: what a
task carries for it, where its large fallback lives, and who can read it
(pyhook/cpmp/core/_stash.py).

    python3 -c "$(cat stash.py)" CASE [ARG]

Prints what python3 would print for the same program where it can run it.
"""

import multiprocessing as mp
import os
import sys
from multiprocessing.reduction import ForkingPickler

DATA = bytes(range(256)) * (8 << 12)  # 8 MiB


def f(i):
    return DATA[i] + len(DATA)


def mine():
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith("cpmp-%d-" % os.getpid()))


def call(fn, i):
    return fn(i)


def case_pool():
    # Workers forked after f was bound hold it: each task carries a
    # reference and the fallback's name, not the 8 MiB.
    with mp.get_context("fork").Pool(2) as p:
        sizes = {len(ForkingPickler.dumps(f)) < 1000 for _ in range(3)}
        out = list(p.imap(f, range(300), chunksize=1))
        stashes = mine()
        modes = {oct(os.stat("/dev/shm/" + n).st_mode & 0o777) for n in stashes}
    print(sizes, out == [i % 256 + len(DATA) for i in range(300)], len(stashes), modes)
    print(os.getpid())


def case_readers():
    # The same message read where f is not held: a spawned pool, a
    # forkserver's, a Manager's server (it builds f to store it).
    with mp.get_context("fork").Pool(1) as p:
        p.apply(f, (0,))
    results = []
    for method in ("spawn", "forkserver"):
        with mp.get_context(method).Pool(1) as p:
            results.append(p.apply(call, (f, 3)))
    with mp.get_context("spawn").Manager() as m:
        d = m.dict()
        d["f"] = f
        results.append(d["f"](5))
    print(results, len(mine()))


def case_exit():
    # A spawned child that reads its task after the parent began to exit:
    # multiprocessing joins it before the stash goes.
    with mp.get_context("fork").Pool(1) as p:
        p.apply(f, (0,))
    q = mp.get_context("spawn").SimpleQueue()
    mp.get_context("spawn").Process(target=report, args=(f, sys.argv[2])).start()
    del q
    print(len(mine()))  # the task named a stash: it was not sent whole


def report(fn, path):
    import time

    time.sleep(1)
    with open(path, "w") as out:
        out.write("%d\n" % fn(7))


def case_dumps():
    # cpmp.dumps may be read anywhere, any time: its fallbacks go whole.
    with mp.get_context("fork").Pool(1) as p:
        p.apply(f, (0,))
    import cpmp

    with open(sys.argv[2], "wb") as out:
        out.write(cpmp.dumps(f))
    print(len(mine()))


def case_killed():
    with mp.get_context("fork").Pool(1) as p:
        p.apply(f, (0,))
        print(os.getpid(), len(mine()), flush=True)
        os.kill(os.getpid(), 9)


if __name__ == "__main__":
    globals()["case_" + sys.argv[1]]()
