"""What a Dask worker runs for a program under ``--cluster`` (see _client).

Its names are written into Dask's task messages as
``__cpmp__.cluster._worker.NAME`` (see core/_wire): the worker must run cpmp (``cpmp exec --
dask-worker ADDRESS``), which _client checks at connect.

The program's code never runs in the worker: each pool (or executor) gets
a process of its own on each worker process that runs its tasks (_child),
started with the pool's first task there and ended with the pool, the
program, or the worker -- as a local pool's worker processes are.  A Dask
task only hands its bytes to that process and brings back the result,
with what the process wrote on its stdout and stderr meanwhile.

One task at a time per worker process, whatever Dask's thread count: a
worker process stands for a core, as a local pool's process does.
"""

import os
import pickle
import sys
import threading
from collections import OrderedDict

_running = threading.Lock()  # held for each task
_lock = threading.Lock()  # for _processes
_processes = {}  # pool (space) key -> _PoolProcess
FETCH_TIMEOUT = 60  # seconds
LEASE_CHECK = 2  # seconds between asking whether the programs are still there
END_GRACE = 5  # seconds an ended pool's process has to exit by itself
LARGE_KEPT = 1 << 29  # bytes of large buffers (_send._large) a worker, and a pool's process, keep
_blobs = OrderedDict()  # digest -> a large buffer's bytes, fetched once, least recent first
# The worker's own, not the program's: what makes a Python on this machine run cpmp.
_MACHINE = ("LD_PRELOAD", "LD_LIBRARY_PATH")
_CLIENT_ONLY = ("CPMP_CLUSTER", "CPMP_CLUSTER_TLS", "CPMP_CLUSTER_DASHBOARD_SHOWN")
# -c puts the directory first on sys.path: none of its modules may run
# before the program's sys.path is in place (_child._prepare).
_BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
         "import importlib; importlib.import_module(sys.argv[1] + '.cluster._child')"
         ".main(int(sys.argv[2]), int(sys.argv[3]))")


class _PoolProcess:
    def __init__(self, program, key, start, lease):
        import socket
        import subprocess
        from multiprocessing.connection import Connection

        self.program, self.key, self.lease = program, key, lease
        self.ended = False
        self.sent = OrderedDict()  # digest -> size of the large buffers it holds
        mine, theirs = socket.socketpair()
        life, self.life = os.pipe()
        package = __name__.rsplit(".", 2)[0]
        cwd = start["cwd"]
        try:
            self.popen = subprocess.Popen(
                [sys.executable] + start["flags"] + ["-c", _BOOT, package, str(theirs.fileno()),
                                                     str(life)],
                env=_environment(start["env"], package), stdin=subprocess.DEVNULL,
                cwd=cwd if cwd and os.path.isdir(cwd) else None,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(), life), start_new_session=True)
        except BaseException:
            mine.close()
            os.close(self.life)
            raise
        finally:
            theirs.close()
            os.close(life)
        self.conn = Connection(mine.detach())
        self.conn.send_bytes(start["child"])

    def call(self, task, large):
        """(result bytes or None, stdout bytes, stderr bytes); None: the
        process ended meanwhile.  large: {digest: name} of the large
        buffers the task carries."""
        import select

        out, err, streams = [], [], {}
        streams[self.popen.stdout.fileno()] = out
        streams[self.popen.stderr.fileno()] = err
        frames = self._large_frames(large) + [b"T" + task]
        # From a thread: a large buffer fills the socket while the process
        # may still be writing its start-up's output, which is read here.
        sender = threading.Thread(target=self._send, args=(frames,), daemon=True)
        sender.start()
        while True:
            ready, _, _ = select.select([self.conn.fileno()] + list(streams), [], [])
            for fd in ready:
                if fd in streams and not _read(fd, streams[fd]):
                    del streams[fd]
            if self.conn.fileno() in ready:
                try:
                    result = self.conn.recv_bytes()
                except (EOFError, OSError):
                    result = None
                break
        sender.join()
        # What it wrote before it answered is in the pipes now.
        for fd, got in streams.items():
            os.set_blocking(fd, False)
            while _read(fd, got):
                pass
            os.set_blocking(fd, True)
        return result, b"".join(out), b"".join(err)

    def _send(self, frames):
        try:
            for frame in frames:
                self.conn.send_bytes(frame)
        except OSError:
            pass  # it ended: call() hears of it

    def _large_frames(self, large):
        """What the process must receive, or drop, before the task."""
        new = {d: _blob(d, name) for d, name in large.items() if d not in self.sent}
        frames = []
        for digest in large:
            if digest in new:
                frames += [b"L" + digest.encode(), new[digest]]
                self.sent[digest] = len(new[digest])
            self.sent.move_to_end(digest)
        total = sum(self.sent.values())
        for digest in list(self.sent):
            if total <= LARGE_KEPT:
                break
            if digest not in large:
                total -= self.sent.pop(digest)
                frames.append(b"D" + digest.encode())
        return frames

    def end(self, now):
        """The pool is done: the process exits as a local pool's worker
        does (now: is killed, with its own children)."""
        with _lock:
            if _processes.get(self.key) is self:
                del _processes[self.key]
            if self.ended:
                return
            self.ended = True
        if not now:
            try:
                self.conn.send_bytes(b"")
            except OSError:
                now = True
        if now:
            self._kill()
        else:
            threading.Timer(END_GRACE, self._kill).start()

    def _kill(self):
        try:
            os.close(self.life)  # its lifeline: it kills itself and its children
        except OSError:
            pass
        try:
            os.killpg(self.popen.pid, 9)
        except OSError:
            pass
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self):
        self.popen.wait()
        for f in (self.popen.stdout, self.popen.stderr, self.conn):
            try:
                f.close()
            except OSError:
                pass


def _read(fd, into):
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return False
    if data:
        into.append(data)
    return bool(data)


def _environment(env, package):
    """The program's environment, but for what makes this machine's
    Python run cpmp (the worker's) and what only the client uses: a
    task's own pool runs in the worker's machine, as a local pool's
    worker's does."""
    env = {k: v for k, v in env.items() if k not in _MACHINE + _CLIENT_ONLY}
    env.update({k: os.environ[k] for k in _MACHINE if k in os.environ})
    if package == "cpmp":  # cpmp.patch() in a plain Python: find the package
        home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [home, env.get("PYTHONPATH")]))
    return env


def _fetch(name):
    """What the client keeps under name (_client's keep): on the
    scheduler, so that no worker's death loses it, and not as a task's
    dependency, which would hold a task back while a later one of the same
    pool runs (a pool's tasks start in the order they were sent)."""
    from distributed import Variable, get_client

    return Variable(name, client=get_client()).get(timeout=FETCH_TIMEOUT)


def _blob(digest, name):
    """A large buffer's bytes, fetched once per worker process while it is
    among the LARGE_KEPT bytes most recently used."""
    blob = _blobs.get(digest)
    if blob is None:
        blob = _blobs[digest] = _fetch(name)
        total = sum(len(b) for b in _blobs.values())
        while total > LARGE_KEPT and len(_blobs) > 1:
            total -= len(_blobs.popitem(last=False)[1])
    _blobs.move_to_end(digest)
    return blob


def _process(program, key, setup, lease):
    with _lock:
        process = _processes.get(key)
    if process is None:
        process = _PoolProcess(program, key, pickle.loads(_fetch(setup)), lease)
        with _lock:
            _processes[key] = process
            _watch_leases()
    return process


def run(program, space_key, setup, lease, task, large=None):
    """One task: pickled (func, args, kwargs) from the client, for the
    pool space_key of program; setup: the name of what the pool's
    processes start from (see _fetch); lease: the key the program's client
    holds while it runs; large: {digest: name} of the large buffers the
    task carries (_send._large), each fetched once.  Returns (pickled (ok, value), stdout bytes,
    stderr bytes): ok True with the result, False with the task's
    exception, None when the pool cannot run it (its main module or
    initializer failed, its process died); or None when the pool or
    the program ended meanwhile.  Never raises: Dask's own error path
    would change the exception the program sees."""
    with _running:
        try:
            process = _process(program, space_key, setup, lease)
        except Exception as exc:
            return _failed(exc, "could not start"), b"", b""
        try:
            result, out, err = process.call(task, large or {})
        except Exception as exc:
            return _failed(exc, "could not fetch the task's large values"), b"", b""
        if result is None:
            if process.ended:
                return None
            process.end(now=True)
            return _failed(_died(process), None), out, err
        return result, out, err


def _failed(exc, what):
    from ._errors import ClusterError

    if not isinstance(exc, ClusterError):
        error = ClusterError("the pool's process %s on worker %s: %s: %s"
                             % (what, _address(), type(exc).__name__, exc))
        error.__cause__ = exc
        exc = error
    return pickle.dumps((None, exc))


def _died(process):
    from ._errors import ClusterError

    try:
        code = process.popen.wait(5)
    except Exception:
        code = None
    how = ("was killed by signal %d" % -code if code is not None and code < 0
           else "exited with status %s" % code)
    return ClusterError("the pool's process on worker %s %s while it ran the task"
                        % (_address(), how))


def _address():
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:
        return "?"


def forget(key):
    """The client closed the pool: its processes exit (client.run calls
    it, on the worker's event loop: never waits)."""
    with _lock:
        process = _processes.get(key)
    if process is not None:
        process.end(now=False)


def abandon(key):
    """The program (key: its name) exited, or its pool (the space's key)
    was terminated (client.run calls it, on the worker's event loop):
    nothing of a program runs after it ends, and a terminated pool's
    processes are killed, as a local pool's are."""
    with _lock:
        ending = [p for p in _processes.values() if key in (p.key, p.program)]
    for process in ending:
        process.end(now=True)
    return bool(ending)


_watching = [False]


def _watch_leases():
    """A program that went away without a word (killed, its machine lost):
    the scheduler forgets the key its client held, and its pools'
    processes are killed (_lock held, in a task's thread)."""
    if not _watching[0]:
        from distributed import get_worker

        _watching[0] = True
        threading.Thread(target=_leases, args=(get_worker(),), name="cpmp-leases",
                         daemon=True).start()


def _leases(worker):
    import time

    from distributed.utils import sync

    while True:
        time.sleep(LEASE_CHECK)
        with _lock:
            processes = list(_processes.values())
        if not processes:
            continue
        try:
            states = sync(worker.loop, worker.scheduler.get_task_status,
                          keys=list({p.lease for p in processes}))
        except Exception:
            continue  # the scheduler is away: its workers go with it
        for process in processes:
            if states.get(process.lease) is None:
                process.end(now=True)
