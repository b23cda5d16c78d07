"""Bounded soak and fault cases (soak.bats): soak.py CASE [FORM].

FORM is "def" (a top-level function, what python3 can send) or "lambda".
Each case prints one line a test compares, and figures for the record.
"""
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


def die(_):
    os.kill(os.getpid(), signal.SIGKILL)


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def busy(_):
    time.sleep(60)


def inc(x):
    return x + 1


def fds():
    return len(os.listdir("/proc/self/fd"))


def case(name, form):
    ctx = multiprocessing.get_context("fork")
    if name == "kill-executor":
        with ProcessPoolExecutor(1, mp_context=ctx) as ex:
            f = ex.submit(die if form == "def" else (lambda x: die(x)), 0)
            try:
                f.result(timeout=30)
            except BrokenProcessPool:
                return "BrokenProcessPool"
    if name == "kill-pool":
        # python3's Pool replaces the worker; the lost task never returns.
        with ctx.Pool(1) as p:
            r = p.apply_async(die if form == "def" else (lambda x: die(x)), (0,))
            try:
                r.get(timeout=3)
            except multiprocessing.TimeoutError:
                return "TimeoutError, then %s" % p.apply(inc if form == "def" else (lambda x: x + 1), (1,))
    if name == "imap-rss":
        f = inc if form == "def" else (lambda x: x + 1)
        with ctx.Pool(1) as p:
            sum(p.imap(f, range(10_000), chunksize=1))
            before = p.apply(rss_kib)
            sum(p.imap(f, range(100_000), chunksize=1))
            after = p.apply(rss_kib)
        sys.stderr.write("worker RSS after 10k tasks %d KiB, after 110k %d KiB\n" % (before, after))
        return "worker RSS flat" if after - before < 2048 else "grew %d KiB" % (after - before)
    if name == "pools-fds":
        f = inc if form == "def" else (lambda x: x + 1)
        with ctx.Pool(1) as p:
            p.map(f, [1])
        before = fds()
        for _ in range(1000):
            with ctx.Pool(1) as p:
                p.map(f, [1])
        after = fds()
        sys.stderr.write("fds before %d, after 1000 Pools %d\n" % (before, after))
        return "fds flat" if after <= before else "fds %d -> %d" % (before, after)
    if name == "busy-parent":
        # The test signals the parent while its workers are busy.
        f = busy if form == "def" else (lambda x: busy(x))
        with ctx.Pool(2) as p:
            r = p.map_async(f, range(4))
            time.sleep(0.5)
            print("ready", flush=True)
            r.get()
    raise SystemExit("unknown case %r" % name)


if __name__ == "__main__":
    print(case(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "lambda"))
