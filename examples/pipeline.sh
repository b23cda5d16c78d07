#!/bin/sh
# A job script that starts python3 itself, as CI jobs and cron wrappers do.
# Stock python3 fails on the lambda and the closure; run it with:
#   cpmp exec -- examples/pipeline.sh
set -e
python3 - <<'PY'
import multiprocessing as mp

def threshold(limit):
    return lambda x: x > limit

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        keep = threshold(3)
        print("kept:    ", [x for x, ok in zip(range(8), pool.map(keep, range(8))) if ok])
    q = ctx.Queue()
    p = ctx.Process(target=lambda q: q.put(sum(range(10))), args=(q,))
    p.start()
    print("from a Process:", q.get())
    p.join()
PY
