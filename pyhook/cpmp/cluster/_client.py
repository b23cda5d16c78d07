"""Running the program's pools on a Dask cluster (CPMP_CLUSTER, --cluster).

One ``distributed.Client`` per process, made when the first pool or
executor starts (a program that never makes one pays nothing): to the
scheduler at the address, or to a LocalCluster of N worker processes that
cpmp starts beside the program and stops with it (``local``, ``local:N``;
see _cluster_local).  At connect, every worker is asked what it runs: a
worker without cpmp, or with another Python, cloudpickle or cpmp, is
refused in one line naming it, and the program exits 1 -- as it does when
the scheduler cannot be reached.

What goes to a worker is pickled by cpmp's pickler (_send) into bytes
Dask carries without looking inside, for the pool's own process there
(_worker, _child): the semantics are cpmp's (see _policy), and every held
reference carries its value (_held).  Results come back many at a time
(_gather), with what the task printed.  A pool's own part -- what its
processes start from, the workers it keeps to, its tasks in flight -- is
_space; the pool and executor built on this are _pool and _executor.
"""

import itertools
import os
import pickle
import sys
import threading
import uuid
import weakref

from . import _errors, _large, _quiet, _space, _worker
from .._settings import ENV_CLUSTER, ENV_QUIET, LOG_PREFIX, env_flag, install_fix

_SHOWN = "CPMP_CLUSTER_DASHBOARD_SHOWN"  # for children: the link is printed already
CONNECT_TIMEOUT = 10  # seconds to reach the scheduler
WORKERS_TIMEOUT = 30  # seconds to wait for a first worker


ClusterError, Unavailable, fatal = _errors.ClusterError, _errors.Unavailable, _errors.fatal


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        fatal("--cluster needs Dask's distributed, which this Python cannot import (%s): %s"
              % (exc, install_fix("distributed")))
    return distributed


# --- the connection ------------------------------------------------------------

_connection = [None]
_connect_lock = threading.Lock()


def connection():
    """This process's connection, made on first use."""
    conn = _connection[0]
    if conn is None:
        with _connect_lock:
            conn = _connection[0]
            if conn is None:
                conn = _connection[0] = _Connection(os.environ.get(ENV_CLUSTER, ""))
    return conn


def connect(address):
    """A connection to address that does not refuse workers (the doctor
    reports on them); it becomes this process's connection."""
    with _connect_lock:
        _connection[0] = _Connection(address, check=False)
    return _connection[0]


def _after_fork_in_child():
    # The client's event loop thread is not in the child: it connects anew
    # (to the address the parent resolved), and the parent's LocalCluster
    # stays the parent's.
    _connection[0] = None


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Connection:
    def __init__(self, address, check=True):
        self.local, self.pid = None, os.getpid()
        from . import _local

        n = _local.size(address)
        distributed = _import_distributed()
        credentials = os.environ.get(_local.ENV_TLS) if address.startswith("tls://") else None
        if n is not None:
            self.local = _local.start(n)
            address, credentials = self.local.address, self.local.credentials
        self.address = address
        # A local cluster's own credentials; else Dask's configuration says.
        secure = _local.security(credentials) if credentials else None
        self.client = self._connect(distributed, address, secure)
        import atexit

        atexit.register(self.close)
        workers = self._wait_for_workers()
        from . import _checks

        problems = _checks.worker_problems(self.client, address) if check else ()
        if problems:
            self.close()
            fatal(problems[0])
        # Worker processes: each runs one task at a time (_worker).
        self.workers = len(workers) or 1
        import queue

        self._done_queue = queue.SimpleQueue()
        threading.Thread(target=self._gather, name="cpmp-gather", daemon=True).start()
        # Every task names its program, for abandon(), and the key its
        # client holds while it runs: a worker ends the program's pool
        # processes when the scheduler forgets it (_worker._leases).
        self.program = "cpmp-program-%s" % uuid.uuid4().hex
        self.lease = self.client.submit(len, "", key="cpmp-lease-%s" % uuid.uuid4().hex,
                                        pure=False)
        self.used = False
        self.large = _large.Store(self)
        _quiet.install(self.program)
        self.pinned = weakref.WeakSet()  # spaces kept to some workers (_space)
        self.spaces = weakref.WeakSet()  # every space that sent a task
        self._order = itertools.count()
        # Children (spawned processes, preloaded ones) use the same cluster.
        os.environ[ENV_CLUSTER] = address
        if credentials:
            os.environ[_local.ENV_TLS] = credentials
        self._show_dashboard()

    @staticmethod
    def _connect(distributed, address, security=None):
        _errors.reachable(address, CONNECT_TIMEOUT)
        import warnings

        try:
            with warnings.catch_warnings():
                # Dask's table of mismatched versions: the check at connect
                # says it in one line, naming the worker.
                warnings.simplefilter("ignore", distributed.versions.VersionMismatchWarning)
                return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False,
                                          security=security)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            fatal("cannot reach the Dask scheduler at %s: %s" % (address, _errors.one_line(exc)))

    def _wait_for_workers(self):
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except Exception:
            self.close()
            fatal("the Dask scheduler at %s has no workers (waited %d s): start some with "
                  "`cpmp exec -- dask-worker %s`" % (self.address, WORKERS_TIMEOUT, self.address))
        return self.client.scheduler_info().get("workers", {})

    def _show_dashboard(self):
        # Once per program: its children connect again, quietly.
        if env_flag(ENV_QUIET) or os.environ.get(_SHOWN) == self.address:
            return
        os.environ[_SHOWN] = self.address
        link = self.local.dashboard if self.local is not None else None
        if link is None and "dashboard" in self.client.scheduler_info().get("services", {}):
            link = self.client.dashboard_link
        if link and _quiet.served(link):
            sys.stderr.write("%sDask dashboard: %s\n" % (LOG_PREFIX, link))

    def close(self):
        if os.getpid() != self.pid:
            return  # a forked child: the client and the cluster are the parent's
        if getattr(self, "used", False) and self.running():
            # nothing of the program runs on: its pools' processes end
            self.abandon([t for space in list(self.spaces) for t in list(space.tasks)],
                         self.program, always=True)
            self.large.close()
        client, self.client = getattr(self, "client", None), None
        # A client still trying to reach a lost scheduler is left to its
        # daemon thread: stopping it mid-retry only makes Dask print noise.
        if client is not None and client.status == "running":
            try:
                client.close(timeout=5)
            except Exception:
                pass
        if self.local is not None:
            self.local.stop()
            self.local = None

    def abandon(self, tasks, key, always=False):
        """Nothing of tasks runs on (at exit, Ctrl-C too, and when a pool is
        terminated): those queued are cancelled, the processes of key (the
        program's name or the pool's) killed (_worker.abandon)."""
        futures = [t.future for t in tasks
                   if t.future is not None and t.future.status != "finished"]
        if (futures or always) and self.running():
            try:
                if futures:
                    self.client.cancel(futures, force=True)
                self.client.run(_worker.abandon, key, on_error="ignore")
            except Exception:
                pass

    def running(self):
        client = self.client
        return client is not None and client.status == "running"

    def lost(self, what="the task did not finish"):
        return ClusterError("lost the Dask scheduler at %s: %s" % (self.address, what))

    def keep(self, data, what):
        """Bytes every worker can fetch by the name returned, for the whole
        run: kept by the scheduler (a Dask Variable), not by a worker that
        may die with them (_worker._fetch)."""
        import distributed

        name = "cpmp-%s-%s" % (what, uuid.uuid4().hex)
        distributed.Variable(name, client=self.client).set(data)
        return name

    def drop(self, name):
        if name is not None and self.running():
            import distributed

            try:
                distributed.Variable(name, client=self.client).delete()
            except Exception:
                pass

    def forget(self, space):
        """The pool is done: its workers may drop its main module copy."""
        if self.running():
            try:
                self.client.run(_worker.forget, space.key, on_error="ignore")
            except Exception:
                pass
            self.drop(space.setup)

    def submit(self, space, blob, name, done, large=None):
        """Run a pickled task (see _send) on the cluster; done(task,
        ok, value) is called once, from another thread: ok True with the
        result, False with the task's exception (its remote traceback as
        __cause__), None with why the pool cannot run it here (its
        initializer failed, the scheduler was lost, Dask gave up).
        Returns the Task (cancel() drops it)."""
        task = _space.Task(space, blob, name, done)
        if large:
            task.large = self.large, large
        self.spaces.add(space)
        self.used = True
        with space.lock:
            space.tasks.add(task)
        try:
            self.send(task)
        except BaseException:
            with space.lock:
                space.tasks.discard(task)
            _release(task)
            raise
        return task

    def send(self, task):
        if not self.running():
            raise self.lost()
        space = task.space
        where = {}
        if space.pins:
            where = {"workers": list(space.pins), "allow_other_workers": False}
        if task.order is None:
            # First sent, first run, as from a local pool's queue (Dask
            # would run the newest first): a pool of one process sees its
            # tasks in order.
            task.order = next(self._order)
        future = self.client.submit(_worker.run, self.program, space.key, space.setup,
                                    self.lease.key, task.blob, task.large and task.large[1],
                                    key="%s-%s" % (task.name, uuid.uuid4().hex), pure=False,
                                    priority=-task.order, **where)
        task.future = future
        future.add_done_callback(lambda f: self._done_queue.put((task, f)))

    def _gather(self):
        """Fetch results many at a time: one round trip for every task that
        finished meanwhile, not one each (Dask's callback thread only
        queues them here)."""
        import queue

        while True:
            batch = [self._done_queue.get()]
            try:
                while len(batch) < 1000:
                    batch.append(self._done_queue.get_nowait())
            except queue.Empty:
                pass
            ready = [f for t, f in batch
                     if f.status == "finished" and f is t.future and not t.cancelled]
            try:
                data = dict(zip(ready, self.client.gather(ready))) if ready else {}
            except Exception:
                data = {}  # each is asked again alone, and says why
            for task, future in batch:
                try:
                    _finished(self, task, future, data.get(future))
                except Exception:
                    pass  # done() is cpmp's own, and sets its result first


def _finished(conn, task, future, data=None):
    if task.cancelled or future is not task.future:
        return  # dropped, or sent again (_space._repin)
    status = future.status
    if data is None and status in ("lost", "pending"):
        # Its result died with a worker before it was fetched: Dask
        # computes it again; the gatherer hears of it when it is done.
        def wait():
            try:
                future.result()
            except BaseException:
                pass  # _finished says why
            conn._done_queue.put((task, future))

        threading.Thread(target=wait, name="cpmp-lost", daemon=True).start()
        return
    with task.space.lock:
        task.space.tasks.discard(task)
    if status == "finished" or data is not None:
        try:
            blob, out, err = data if data is not None else future.result()
            ok, value = pickle.loads(blob)
            if isinstance(value, BaseException):
                # Dask makes every exception pickle its traceback (tblib):
                # raised here, its remote frames would follow the local
                # ones, misplaced.  They are in its __cause__, as text, as
                # multiprocessing sends them.
                value.__traceback__ = None
            _forward(sys.stdout, out)
            _forward(sys.stderr, err)
        except BaseException as exc:
            ok, value = None, exc
    elif status == "cancelled":
        ok, value = None, conn.lost()
    else:
        try:
            exc = future.exception()
        except BaseException as other:
            exc = other
        ok, value = None, ClusterError("Dask could not run the task: %s" % _errors.one_line(exc))
        value.__cause__ = exc
    future.release()
    _release(task)
    task.done(task, ok, value)


def _release(task):
    large, task.large = task.large, None
    if large is not None:
        large[0].release(large[1])


def _forward(stream, data):
    """What a task wrote, into this program's own stream."""
    if not data or stream is None:
        return
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()


def cancel(task):
    """Drop the task: its result, if it comes, is ignored.  A finished
    one is left for the gatherer to let go (cancelling it under the
    gatherer's feet only makes Dask compute it again)."""
    task.cancelled = True
    _release(task)
    with task.space.lock:
        task.space.tasks.discard(task)
    if task.future is not None and task.future.status != "finished":
        task.future.cancel()


def task_name(func):
    """What Dask's dashboard groups a task under: its function's name."""
    import re

    name = getattr(func, "__name__", None) or type(func).__name__
    return re.sub(r"\W", "", name) or "task"
