"""Large messages (shm.bats): shm.py CASE METHOD FORM.

FORM is "def" (a top-level function, what python3 can send) or "lambda".
Each case prints lines a test compares with python3's: digests of what
arrived, and "files: N", how many message files of this program were seen
in /dev/shm while messages were queued (python3: 0).
"""
import glob
import hashlib
import multiprocessing
import os
import pickle
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

MB = 1 << 20


def digest(obj):
    return hashlib.sha256(pickle.dumps(obj, 5)).hexdigest()[:16]


def files():
    return len(glob.glob("/dev/shm/cpmp-msg-%d-*" % os.getpid()))


def payloads():
    return [np.arange(3 * MB // 8, dtype=np.float64), np.random.default_rng(7).bytes(2 * MB) * 2,
            bytearray(b"x" * (5 * MB // 2)), {"small": 1, "big": np.ones((512, 1024))}]


def slow_double(a):
    time.sleep(0.5)
    return double(a)


def double(a):
    if isinstance(a, dict):
        return {k: double(v) for k, v in a.items()}
    if isinstance(a, np.ndarray):
        return a * 2
    return a * 2 if isinstance(a, int) else type(a)(a) + bytes(a[:10])


def writable(results):
    return [r.flags.writeable for r in results if isinstance(r, np.ndarray)]


def pool(ctx, form):
    f = slow_double if form == "def" else (lambda a: slow_double(a))
    data = payloads()
    before = digest(data)
    with ctx.Pool(1) as p:
        p.map(abs, range(2))
        result = p.map_async(f, data, chunksize=1)
        time.sleep(0.3)  # the worker sleeps on the first; the rest are queued
        seen = files()
        out = result.get(60)
    print(digest(out), writable(out), "sender unchanged:", digest(data) == before)
    print("files:", seen)


def apis(ctx, form):
    f = double if form == "def" else (lambda a: double(a))
    data = payloads()
    with ctx.Pool(2) as p:
        print("imap", digest(list(p.imap(f, data))))
        print("apply_async", digest(p.apply_async(f, (data[0],)).get(60)))
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        print("executor", digest(list(ex.map(f, data))))
    q = ctx.Queue()
    child = ctx.Process(target=put_back, args=(q, data, form))
    child.start()
    print("queue", digest([q.get(timeout=60) for _ in data]))
    child.join()
    sq, (a, b) = ctx.SimpleQueue(), ctx.Pipe()
    child = ctx.Process(target=echo, args=(sq, b))
    child.start()
    for d in data:
        a.send(d)
    print("pipe and simplequeue", digest([sq.get() for _ in data]), digest(a.recv()))
    child.join()


def put_back(q, data, form):
    for d in data:
        q.put(double(d) if form == "def" else (lambda a: double(a))(d))


def echo(sq, conn):
    got = [conn.recv() for _ in range(4)]
    for g in got:
        sq.put(g)
    conn.send(got)


def manager(ctx, form):
    data = payloads()
    with ctx.Manager() as m:
        d = m.dict()
        for i, x in enumerate(data):
            d[i] = x
        print("manager", digest([d[i] for i in range(len(data))]))


def terminate(ctx, form):
    """Large tasks queued, then Pool.terminate(): nothing is left, nothing said."""
    f = slow_double if form == "def" else (lambda a: slow_double(a))
    p = ctx.Pool(1)
    p.map_async(f, payloads() * 2, chunksize=1)
    time.sleep(0.3)
    print("files:", files() > 0)
    p.terminate()
    p.join()


def worker_killed(ctx, form):
    """A child puts large messages nobody reads, then is SIGKILLed (cpmp
    only: python3 would block in put).  A large message first, so that a
    forked child shares the root's tracker."""
    q = ctx.Queue()
    q.put(bytes(3 * MB))
    assert q.get(timeout=60) == bytes(3 * MB)
    child = ctx.Process(target=put_and_die, args=(q,))
    child.start()
    child.join()
    print("exitcode", child.exitcode, "files:", files() > 0)


def put_and_die(q):
    q.put(bytes(3 * MB))
    q.close()
    q.join_thread()
    os.kill(os.getpid(), signal.SIGKILL)


def busy(ctx, form):
    """SIGKILLed by the test while large tasks are queued."""
    f = slow_double if form == "def" else (lambda a: slow_double(a))
    p = ctx.Pool(1)
    p.map_async(f, payloads() * 4, chunksize=1)
    time.sleep(0.3)
    print("ready files:", files() > 0, flush=True)
    time.sleep(60)


def pipe_only(ctx, form):
    """No semaphore: a Pipe and a forked Process (where /dev/shm is unusable)."""
    a, b = ctx.Pipe()
    child = ctx.Process(target=echo_pipe, args=(b,))
    child.start()
    data = payloads()
    a.send(data)
    print("pipe", digest(a.recv()))
    child.join()


def echo_pipe(conn):
    conn.send(conn.recv())


def foreign(ctx, form):
    """Children run the stock interpreter (set_executable): one without
    cpmp could not load a stub, so large tasks go by the pipe."""
    ctx.set_executable(os.environ["SHM_PYTHON"])
    with ctx.Pool(1) as p:
        result = p.map_async(slow_double, payloads(), chunksize=1)
        time.sleep(0.3)
        seen = files()
        print("foreign", digest(result.get(60)), "files:", seen)


def dumps(ctx, form):
    """ForkingPickler.dumps() called directly: python3's bytes, loadable twice."""
    from multiprocessing.reduction import ForkingPickler
    data = payloads()
    raw = bytes(ForkingPickler.dumps(data))
    print("dumps", hashlib.sha256(raw).hexdigest()[:16], len(raw))
    print("loaded twice", digest(pickle.loads(raw)) == digest(pickle.loads(raw)) == digest(data))


if __name__ == "__main__":
    case, method, form = sys.argv[1:4]
    globals()[case.replace("-", "_")](multiprocessing.get_context(method), form)
