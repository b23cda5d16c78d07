"""A pool's (or executor's) own part of the cluster (see _client): its
copy of the program on the workers, its initializer, the worker processes
it may use, and its tasks in flight.

A pool of N processes uses at most N worker processes (its pins), as it
uses N processes locally: what a task leaves in its process's globals is
seen by the next task of that pool in that process, and a program whose
Pool(1) keeps state gives the same answers.  A pool made without a number
uses every worker.  A pinned worker that dies is replaced (_client's
watch), as a local pool replaces a process.
"""

import os
import pickle
import sys
import threading
import uuid

from . import _fork, _send


class Task:
    """One task in flight: what to send again if its workers die."""

    __slots__ = ("space", "blob", "name", "done", "future", "cancelled", "order", "large")

    def __init__(self, space, blob, name, done):
        self.space, self.blob, self.name, self.done = space, blob, name, done
        self.future = None
        self.cancelled = False
        self.order = None
        self.large = None  # (_large.Store, {digest: name}) of its large buffers


class Space:
    """processes: the pool's number of processes, or None for all;
    flavour: "pool" or "executor"; method: its start method."""

    def __init__(self, conn, initializer, initargs, processes=None, flavour="pool",
                 method=None):
        if not conn.running():
            raise conn.lost("no new pool can start")
        self.key = uuid.uuid4().hex
        self.lock = threading.Lock()
        self.tasks = set()
        child = {"flavour": flavour, "program": program(), "initializer": None}
        if initializer is not None:
            child["initializer"] = _send.dumps_task(
                (initializer, tuple(initargs)), [("the initializer", initializer)]
                + [("initargs[%d]" % i, a) for i, a in enumerate(initargs)])
        if method == "fork":
            child["bindings"], child["unsent"] = _fork.snapshot(_send)
        self.setup = conn.keep(pickle.dumps(_start(child)), "pool")
        self.pins = None
        if processes is not None:
            self.pins = pick(conn, processes) or None
            if self.pins:
                _pin(conn, self)


def _start(child):
    """What a worker starts the pool's processes with (_worker): this
    process's environment, directory and flags, now."""
    import subprocess

    try:
        here = os.getcwd()
    except OSError:
        here = None
    return {"env": dict(os.environ), "cwd": here,
            "flags": subprocess._args_from_interpreter_flags(), "child": pickle.dumps(child)}


def program():
    """How a pool's process re-makes the main module, as a spawn child
    would: the main script's source, or its module name."""
    from ..core import _policy

    main = sys.modules.get("__main__")
    made = {"sys_path": [p for p in sys.path if p], "argv": list(sys.argv)}
    if main is None or not _policy._main_spawn_resolvable(main):
        return made
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        made["name"] = name
        return made
    path = os.path.abspath(main.__file__)
    try:
        with open(path, "rb") as f:
            made["source"] = f.read()
        made["path"] = path
    except OSError:
        pass
    return made


# --- the workers a pool keeps to ------------------------------------------------

def pick(conn, n, exclude=()):
    """n live workers for a pool of n processes (fewer if the cluster has
    fewer), those serving the fewest pools first."""
    live = list(conn.client.scheduler_info().get("workers", {}))
    load = dict.fromkeys(live, 0)
    for space in list(conn.pinned):
        for worker in space.pins or ():
            if worker in load:
                load[worker] += 1
    free = sorted((w for w in live if w not in exclude), key=lambda w: (load[w], w))
    return free[:n]


def _pin(conn, space):
    """Keep the space on its workers; when they go, on others."""
    conn.pinned.add(space)
    if not getattr(conn, "watching", False):
        conn.watching = True
        threading.Thread(target=_watch, args=(conn,), name="cpmp-watch", daemon=True).start()


def _watch(conn):
    """A pool's worker that dies is replaced, as a local pool replaces a
    process; tasks that only dead workers could run are sent again."""
    import time

    while conn.running():
        time.sleep(1)
        try:
            live = set(conn.client.scheduler_info().get("workers", {}))
            for space in list(conn.pinned):
                if live and not set(space.pins) <= live:
                    _repin(conn, space, live)
        except Exception:
            pass  # the client is closing


def _repin(conn, space, live):
    alive = [w for w in space.pins if w in live]
    space.pins = alive + pick(conn, len(space.pins) - len(alive), exclude=alive)
    if alive:
        return  # what is queued runs on the live ones; new tasks use all
    with space.lock:
        stuck = [t for t in space.tasks if not t.cancelled]
    for task in stuck:
        old = task.future
        conn.send(task)
        old.cancel()
