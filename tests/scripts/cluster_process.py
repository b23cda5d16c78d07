"""Programs whose pools must behave on a cluster as a local pool's
processes do (issue 18): python3 cluster_process.py CASE [METHOD] prints
the same bytes with python3 and with `cpmp run --cluster ...`
(cluster.bats).  Every line is flushed at once: a task's lines and the
program's then keep their order whatever the stream."""
import multiprocessing as mp
import os
import sys

FACTOR = 1
SETTINGS = {"mode": "top"}
ARGS = None
if sys.argv[1:2] == ["logging"]:  # at module level: every process of a pool has it
    import logging

    logging.basicConfig(format="%(name)s %(levelname)s %(message)s")


def say(*args):
    print(*args, flush=True)


def count(_):
    import counter

    counter.N += 1
    return counter.N


def where(_):
    import here

    return os.path.basename(os.getcwd()), here.NAME


def env(_):
    return os.environ.get("CPMP_TEST_SETTING", "default")


def times(x, unit=None):
    return x * FACTOR, SETTINGS["mode"], ARGS


class Config:
    level = 1
    seen = []


CONFIG = Config()
GONE = "bound at the top level, deleted in the main block"


def shared(x):
    CONFIG.level += 1
    Config.seen.append(x)
    return (ALIAS[0].level, ALIAS[0] is CONFIG, Config.level, list(Config.seen), times.unit,
            times.__defaults__, "GONE" in globals())


def uses_lock(_):
    with LOCK:
        return "locked"


def log(x):
    import logging

    for i in range(x):
        logging.getLogger("task").warning("line %d of task %d", i, x)
    return x


def alarm(x):
    import signal
    import time

    def timeout(*_):
        raise TimeoutError("task %d took too long" % x)

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(1)
    try:
        time.sleep(x)
        return "done %d" % x
    except TimeoutError as exc:
        return str(exc)
    finally:
        signal.alarm(0)


def child_output(x):
    import faulthandler
    import subprocess

    faulthandler.enable()
    sys.stdout.flush()
    subprocess.run(["echo", "echo says %d" % x], stdout=sys.stdout, check=True)
    subprocess.run(["sh", "-c", "echo sh says %d >&2" % x], stderr=sys.stderr, check=True)
    return faulthandler.is_enabled()


def nested(x):
    import concurrent.futures as cf

    with cf.ProcessPoolExecutor(2) as ex:
        return sorted(ex.map(abs, [-x, x - 1]))


def main():
    case = sys.argv[1]
    ctx = mp.get_context(sys.argv[2] if len(sys.argv) > 2 else "spawn")
    if case == "counter":
        for _ in range(3):
            with ctx.Pool(1) as pool:
                say(pool.map(count, range(3), chunksize=1))
    elif case == "chdir":
        for name in ("one", "two"):
            os.chdir(os.path.join(sys.argv[3], name))
            sys.path.insert(0, os.getcwd())
            with ctx.Pool(2) as pool:
                say(sorted(set(pool.map(where, range(4)))))
    elif case == "environ":
        for value in (None, "first", "second"):
            if value is not None:
                os.environ["CPMP_TEST_SETTING"] = value
            with ctx.Pool(2) as pool:
                say(sorted(set(pool.map(env, range(4)))))
    elif case == "fork-state":
        global FACTOR, ARGS, LOCK
        import argparse
        import threading

        FACTOR = 3
        SETTINGS["mode"] = "mutated in the main block"
        ARGS = vars(argparse.ArgumentParser().parse_args([]))
        LOCK = threading.Lock()
        with ctx.Pool(2) as pool:
            say(pool.map(times, range(4)))
            try:
                say(pool.apply(uses_lock, (0,)))
            except Exception as exc:
                say("%s: %s" % (type(exc).__name__, exc))
    elif case == "fork-identity":
        global ALIAS, GONE
        # One object under two names, a class's and a function's own
        # state, a name deleted: all as a forked process has them.
        ALIAS = [CONFIG]
        CONFIG.level = 10
        Config.level, Config.seen = 20, [-1]
        times.unit, times.__defaults__ = "per item", ("k",)
        del GONE
        with ctx.Pool(1) as pool:
            for line in pool.map(shared, range(2), chunksize=1):
                say(line)
    elif case == "logging":
        with ctx.Pool(1) as pool:
            say(sum(pool.map(log, [3, 2000, 1], chunksize=1)))
    elif case == "process-api":
        import concurrent.futures as cf

        with ctx.Pool(1) as pool:
            say(pool.map(alarm, [0, 3]))
            say(pool.map(child_output, [1, 2]))
        # an executor's processes may start their own (a Pool's are daemonic)
        with cf.ProcessPoolExecutor(1, mp_context=ctx) as ex:
            say(list(ex.map(nested, [5, 7])))


if __name__ == "__main__":
    main()
